/*
 * libcurl, loaded on first use.  Linking it costs every run about 4 ms of
 * start-up (it pulls in TLS and its dependencies), and most runs of the
 * suite make no HTTP call, so no binary links it: rk-llm resolves the
 * functions it needs with dlopen(3) when it is about to make one.
 */
#include <dlfcn.h>
#include <stdio.h>

#include "llm/llm.h"

struct rk_curl rk_curl;
static int loaded;

int
rk_curl_load(char *err, size_t errsize)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} fn[] = {
#define F(n) { "curl_" #n, offsetof(struct rk_curl, n) }
		F(global_init), F(easy_init), F(easy_setopt), F(easy_getinfo),
		F(easy_cleanup), F(easy_strerror), F(multi_init),
		F(multi_setopt), F(multi_add_handle), F(multi_remove_handle),
		F(multi_perform), F(multi_poll), F(multi_info_read),
		F(multi_cleanup), F(slist_append), F(slist_free_all),
		F(getdate)
#undef F
	};
	void *h;

	if (loaded)
		return 0;
	if ((h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(err, errsize, "cannot load libcurl: %s", dlerror());
		return -1;
	}
	for (size_t i = 0; i < sizeof(fn) / sizeof(fn[0]); i++) {
		void *p = dlsym(h, fn[i].name);

		if (p == NULL) {
			snprintf(err, errsize, "libcurl.so.4 has no %s (7.68 "
			    "or later is needed)", fn[i].name);
			dlclose(h);
			return -1;
		}
		/* POSIX guarantees a data pointer can hold a function's */
		*(void **)((char *)&rk_curl + fn[i].off) = p;
	}
	if (rk_curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errsize, "cannot initialise libcurl");
		return -1;
	}
	loaded = 1;
	return 0;
}
