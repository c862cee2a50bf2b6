# csvfs: see the top Makefile.am
