# agents: see the top Makefile.am
