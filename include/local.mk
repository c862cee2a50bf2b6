noinst_HEADERS += include/clusterd/result.h include/clusterd/ipc.h include/clusterd/client.h
