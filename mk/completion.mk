# Shell completion for rk(1): bash and zsh, installed with the rest.

BASHCOMPDIR = $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR = $(PREFIX)/share/zsh/site-functions

install: install-completion

install-completion:
	mkdir -p $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 644 contrib/completion/rk.bash $(DESTDIR)$(BASHCOMPDIR)/rk
	install -m 644 contrib/completion/_rk $(DESTDIR)$(ZSHCOMPDIR)/_rk

.PHONY: install-completion
