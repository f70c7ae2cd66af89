# Shell completion for rk(1) and the rk-* tools: bash and zsh, installed
# with the rest.  bash-completion loads a command's completion from the
# file of its name, so each tool gets the one bash file under its own.

BASHCOMPDIR = $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR = $(PREFIX)/share/zsh/site-functions

INSTALL_FILES += completion/rk.bash:$(BASHCOMPDIR)/rk \
	$(foreach t,$(TOOLS),completion/rk.bash:$(BASHCOMPDIR)/$(t)) \
	completion/_rk:$(ZSHCOMPDIR)/_rk
