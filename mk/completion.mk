# Shell completion for rk(1): bash and zsh, installed with the rest.

BASHCOMPDIR = $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR = $(PREFIX)/share/zsh/site-functions

INSTALL_FILES += contrib/completion/rk.bash:$(BASHCOMPDIR)/rk \
	contrib/completion/_rk:$(ZSHCOMPDIR)/_rk
