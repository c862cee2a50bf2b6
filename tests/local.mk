# tests: unit tests (Check)
