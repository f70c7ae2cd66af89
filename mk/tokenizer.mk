# Token tables for lib/token/bpe.c.  data/tokenizer/NAME.tiktoken is checked
# against its published SHA-256 (SHA256SUMS), then `rk-tokens --compile`
# turns it into the table that rk_bpe_open() maps read-only from
# <bindir>/../share/reasonkit/tokenizer/NAME.bpe.

TOKENIZER_ENC = cl100k_base o200k_base
TOKENIZER_DIR = $(O)/share/reasonkit/tokenizer
TOKENIZER_TABLES = $(patsubst %,$(TOKENIZER_DIR)/%.bpe,$(TOKENIZER_ENC))

SHARE += $(TOKENIZER_TABLES)
INSTALL_DATA += $(patsubst %,%:tokenizer,$(TOKENIZER_TABLES))

$(TOKENIZER_DIR):
	mkdir -p $@

$(TOKENIZER_DIR)/%.bpe: data/tokenizer/%.tiktoken data/tokenizer/SHA256SUMS \
    $(O)/bin/rk-tokens | $(TOKENIZER_DIR)
	cd data/tokenizer && grep ' $*\.tiktoken$$' SHA256SUMS | \
	    sha256sum --check --quiet --strict -
	$(O)/bin/rk-tokens --compile $< $@
