dist_man_MANS += man/clusterd.8 man/clusterctl.8 man/clusterd.conf.5 man/clusterd-console.8
