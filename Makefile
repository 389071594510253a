# Shortcuts for ./dev (which works without make on a fresh machine).
.PHONY: install run test lint check
install:
	./dev install
run:
	./dev run
test:
	./dev test
lint:
	./dev lint
check:
	./dev check
