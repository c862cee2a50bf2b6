# bench: see the top Makefile.am
include $(srcdir)/bench/csvfs/local.mk
