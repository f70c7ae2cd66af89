/*
 * vector-bench: top-k cosine search over the same vectors in our store
 * (lib/search/vector.c) and graph (hnsw.c), faiss IndexFlatIP and
 * hnswlib, one query at a
 * time, single-threaded, in one process, the engines taking turns on
 * each query.
 *
 * usage: vector-bench DIST N ENGINES [ROUNDS [GT]]
 *
 * DIST      random (Gaussian) or clustered (N/100 Gaussian centres, each
 *           point its centre plus noise of 0.7 times its length)
 * ENGINES   comma-separated: exact (ours, float32), qR (ours, int8 scan,
 *           float32 re-rank of the best R), binR (sign bits and popcount,
 *           plain C here, re-rank of R: measured for recall only), faiss,
 *           hnswEF (M 16, ef_construction 200, search ef EF; one index
 *           shared by every hnsw engine), annEF (ours, lib/search/hnsw.c:
 *           M 16, ef_construction 100, search ef EF; one graph shared)
 * GT        file of the exact top 10 ids: written when "exact" runs,
 *           read otherwise (recall of runs that cannot hold both)
 *
 * 768 dimensions, 300 queries, k = 10; data from fixed seeds.  Prints
 * one line per engine: build seconds, bytes per vector, p50 and p99 of
 * the query time in ms (median over ROUNDS, default 3, and min-max),
 * recall@10 against the exact ranking.  ROUNDS 0: build only.
 *
 * RK_VBENCH_CACHE=DIR keeps the graphs (ann, hnsw) built there, named by
 * data set, size, seed and build parameters, with a .meta file of n,
 * dim, seed, a checksum of every 1000th vector and the build time; a
 * later run with the same data loads them and prints that build time,
 * marked "cached".  RK_VBENCH_TIMES=FILE writes every query's time
 * (round, query, engine, ms).
 */
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <omp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include <faiss/IndexFlat.h>
#include <hnswlib/hnswlib.h>

extern "C" {
#include "core/rk.h"
#include "search/search.h"
}

enum { DIM = 768, NQ = 300, K = 10, CHUNK = 10000, SEED = 42,
    SAMPLE = 1000 };

static double
now_ms()
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* the process's CPU time: builds on a shared machine */
static double
cpu_ms()
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct Rng {
	uint64_t s;
	uint64_t next() {
		s += 0x9e3779b97f4a7c15ULL;
		uint64_t z = s;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		return z ^ (z >> 31);
	}
	double uniform() { return ((next() >> 11) + 0.5) / 9007199254740992.0; }
	double gauss() {
		return sqrt(-2 * log(uniform())) * cos(2 * M_PI * uniform());
	}
};

static void
normalise(float *v)
{
	double ss = 0;

	for (int i = 0; i < DIM; i++)
		ss += (double)v[i] * v[i];
	for (int i = 0; i < DIM; i++)
		v[i] = (float)(v[i] / sqrt(ss));
}

struct Gen {
	bool clustered;
	std::vector<float> centres;
	size_t ncentres;

	Gen(bool c, size_t n) : clustered(c), ncentres(std::max<size_t>(n / 100, 10)) {
		Rng r{7};
		if (!clustered)
			return;
		centres.resize(ncentres * DIM);
		for (auto &x : centres)
			x = (float)r.gauss();
		for (size_t i = 0; i < ncentres; i++)
			normalise(&centres[i * DIM]);
	}
	void fill(Rng &r, float *v) {
		const float *c = clustered ?
		    &centres[(r.next() % ncentres) * DIM] : nullptr;
		for (int i = 0; i < DIM; i++)
			v[i] = c ? c[i] + 0.7f * (float)r.gauss() / sqrtf(DIM) :
			    (float)r.gauss();
		normalise(v);
	}
};

/* checksum (FNV-1a) of every SAMPLEth vector and the last */
static uint64_t vsum = 0xcbf29ce484222325ULL;
static size_t nvec;
static const char *dist;

static void
vsum_add(const float *v, size_t i)
{
	const unsigned char *p = (const unsigned char *)v;

	if (i % SAMPLE != 0 && i != nvec - 1)
		return;
	for (size_t j = 0; j < DIM * sizeof(float); j++)
		vsum = (vsum ^ p[j]) * 0x100000001b3ULL;
}

/*
 * A built graph kept in $RK_VBENCH_CACHE: BASE.meta says for which
 * vectors it was built (n, dim, seed, checksum; the checksum is known
 * only once every vector is made) and how long the build took.
 */
struct Cached {
	std::string base;	/* empty: no cache */
	bool hit = false;
	double build_ms = 0, build_cpu_ms = 0;

	explicit Cached(const std::string &what) {
		const char *dir = getenv("RK_VBENCH_CACHE");
		char buf[256];

		if (dir == NULL || *dir == '\0')
			return;
		mkdir(dir, 0777);
		snprintf(buf, sizeof(buf), "/%s-%zu-seed%d-%s", dist, nvec,
		    (int)SEED, what.c_str());
		base = dir + std::string(buf);
	}
	std::string meta_line(double ms, double cpu) const {
		char buf[256];

		snprintf(buf, sizeof(buf), "vector-bench n %zu dim %d seed %d "
		    "sum %016llx build_ms %.1f cpu_ms %.1f\n", nvec, (int)DIM,
		    (int)SEED, (unsigned long long)vsum, ms, cpu);
		return buf;
	}
	/* before the vectors: is there a graph for this n, dim, seed? */
	bool probe() {
		FILE *fp;
		size_t n;
		int dim, seed;
		unsigned long long sum;

		if (base.empty() || (fp = fopen((base + ".meta").c_str(),
		    "r")) == NULL)
			return false;
		hit = fscanf(fp, "vector-bench n %zu dim %d seed %d sum %llx "
		    "build_ms %lf", &n, &dim, &seed, &sum, &build_ms) == 5 &&
		    n == nvec && dim == DIM && seed == SEED;
		if (fscanf(fp, " cpu_ms %lf", &build_cpu_ms) != 1)
			build_cpu_ms = 0;
		fclose(fp);
		return hit;
	}
	/* after the vectors: the same checksum, or the cache is stale */
	void check() const {
		FILE *fp = fopen((base + ".meta").c_str(), "r");
		char buf[256] = "";

		if (fp == NULL || fgets(buf, sizeof(buf), fp) == NULL ||
		    strncmp(buf, meta_line(0, 0).c_str(),
		    strstr(buf, " build_ms") - buf) != 0) {
			fprintf(stderr, "vector-bench: %s: made for other "
			    "vectors; remove it\n", base.c_str());
			exit(1);
		}
		fclose(fp);
	}
	void saved(double ms, double cpu) const {
		std::string tmp = base + ".meta.tmp";
		FILE *fp = fopen(tmp.c_str(), "w");

		if (fp == NULL ||
		    fputs(meta_line(ms, cpu).c_str(), fp) == EOF ||
		    fclose(fp) != 0 || rename(tmp.c_str(),
		    (base + ".meta").c_str()) != 0) {
			perror(tmp.c_str());
			exit(1);
		}
	}
};

struct Engine {
	std::string name;
	bool cached = false;	/* build_ms from the cache, load_ms here */
	double build_ms = 0, build_cpu_ms = 0, load_ms = 0, bytes = 0;
	std::vector<std::vector<double>> times;	/* per round */
	std::vector<std::string> why;	/* per query: CPU, switches, faults */
	std::vector<int64_t> ids;		/* first round, NQ * K */
	virtual void add(const float *v, size_t n, size_t first) = 0;
	virtual void search(const float *q, int64_t *out) = 0;
	virtual void finish() {}
	virtual void save() {}	/* the built graph into the cache */
	virtual ~Engine() {}
};

/* ours; exact and every qR share one store */
static struct rk_vec *store;

struct Ours : Engine {
	size_t rerank;
	bool owner;
	Ours(const std::string &n, size_t r, bool o) : rerank(r), owner(o) {
		name = n;
		bytes = 4 * DIM + DIM + 4 + 8;
	}
	void add(const float *v, size_t n, size_t first) override {
		struct rk_error e;
		if (!owner)
			return;
		for (size_t i = 0; i < n; i++)
			if (rk_vec_add(store, first + i, v + i * DIM, &e) != 0) {
				fprintf(stderr, "%s\n", e.msg);
				exit(1);
			}
	}
	void search(const float *q, int64_t *out) override {
		struct rk_hit h[K];
		struct rk_error e;
		size_t n;
		rk_vec_search(store, q, K, rerank, h, &n, &e);
		for (size_t i = 0; i < n; i++)
			out[i] = h[i].rowid;
	}
};

/*
 * sSqR: the int8 scan of qR rebuilt here from the library's kernel
 * (rk_vec_qdots, 64 vectors a call) over S streams, then the same
 * re-rank: to compare stream counts in one process, under the same load.
 */
struct Streams : Engine {
	size_t streams, rerank;
	Streams(const std::string &n, size_t s, size_t r)
	    : streams(s), rerank(r) {
		name = n;
		bytes = 4 * DIM + DIM + 4 + 8;
	}
	void add(const float *, size_t, size_t) override {}
	void search(const float *query, int64_t *out) override {
		size_t n = rk_vec_count(store), part = (n + streams - 1) /
		    streams;
		float u[DIM], qscale;
		int8_t q8[DIM];
		const int8_t *x[64];
		size_t pos[64];
		int32_t d[64];
		float sc[64];
		struct rk_error e;
		std::vector<std::pair<float, uint32_t>> heap;

		rk_vec_query(store, query, u, q8, &qscale, &e);
		heap.reserve(rerank + 1);
		for (size_t next = 0; next < part;) {
			size_t m = 0;
			for (; m + streams <= 64 && next < part; next++)
				for (size_t k = 0; k < streams; k++)
					if (k * part + next < n)
						pos[m++] = k * part + next;
			for (size_t j = 0; j < m; j++)
				x[j] = at(pos[j], &sc[j]);
			rk_vec_qdots(q8, x, DIM, m, d);
			for (size_t j = 0; j < m; j++)
				push(heap, sc[j] * d[j], pos[j]);
		}
		std::vector<uint32_t> cand;
		for (auto &h : heap)
			cand.push_back(h.second);
		struct rk_hit h[K];
		size_t got;
		rk_vec_rerank(store, u, cand.data(), cand.size(), K, h, &got,
		    &e);
		for (size_t i = 0; i < got; i++)
			out[i] = h[i].rowid;
	}
	static const int8_t *at(size_t i, float *sc) {
		int64_t id;
		const float *f;
		const void *q;
		rk_vec_get(store, i, &id, &f, &q, sc);
		return (const int8_t *)q;
	}
	void push(std::vector<std::pair<float, uint32_t>> &h, float sc,
	    size_t i) {
		auto worse = [](const std::pair<float, uint32_t> &a,
		    const std::pair<float, uint32_t> &b) {
			return a.first > b.first;
		};
		if (h.size() == rerank) {
			if (sc <= h.front().first)
				return;
			std::pop_heap(h.begin(), h.end(), worse);
			h.pop_back();
		}
		h.push_back({sc, (uint32_t)i});
		std::push_heap(h.begin(), h.end(), worse);
	}
};

/* ours, the graph of lib/search/hnsw.c over the store; one graph shared */
static struct rk_hnsw *graph;

struct Ann : Ours {
	size_t ef;
	bool builder;
	double graph_ms = 0, graph_cpu_ms = 0;
	Cached cache{"ann-M" + std::to_string(RK_HNSW_M) + "-efc" +
	    std::to_string(RK_HNSW_EFC) + ".blob"};
	Ann(const std::string &n, size_t e, bool o, bool b)
	    : Ours(n, 0, o), ef(e), builder(b) {}
	void finish() override {
		if (builder)
			build();
		bytes += (double)rk_hnsw_blob_size(graph) /
		    rk_vec_count(store);
	}
	void build() {
		double t0 = now_ms(), c0 = cpu_ms();

		if (cache.probe()) {
			cache.check();
			load(cache.base);
			cached = true;
			load_ms = now_ms() - t0;
			build_ms += cache.build_ms;
			build_cpu_ms += cache.build_cpu_ms;
			return;
		}
		graph = rk_hnsw_build(store, RK_HNSW_M, RK_HNSW_EFC, NULL,
		    NULL);
		graph_ms = now_ms() - t0;
		graph_cpu_ms = cpu_ms() - c0;
	}
	void save() override {
		if (!builder || cached || cache.base.empty())
			return;
		std::vector<char> blob(rk_hnsw_blob_size(graph));
		rk_hnsw_blob(graph, blob.data());
		FILE *fp = fopen(cache.base.c_str(), "wb");
		if (fp == NULL || fwrite(blob.data(), 1, blob.size(), fp) !=
		    blob.size() || fclose(fp) != 0) {
			perror(cache.base.c_str());
			exit(1);
		}
		cache.saved(graph_ms, graph_cpu_ms);
	}
	static void load(const std::string &path) {
		struct rk_error e;
		struct stat st;
		FILE *fp = fopen(path.c_str(), "rb");

		if (fp == NULL || fstat(fileno(fp), &st) != 0) {
			perror(path.c_str());
			exit(1);
		}
		std::vector<char> blob(st.st_size);
		if (fread(blob.data(), 1, blob.size(), fp) != blob.size() ||
		    (graph = rk_hnsw_load(blob.data(), blob.size(), store,
		    &e)) == NULL) {
			fprintf(stderr, "vector-bench: %s: %s\n", path.c_str(),
			    ferror(fp) ? "short read" : e.msg);
			exit(1);
		}
		fclose(fp);
	}
	void search(const float *q, int64_t *out) override {
		struct rk_hit h[K];
		struct rk_error e;
		size_t n;
		rk_hnsw_search(graph, store, q, K, ef, h, &n, &e);
		for (size_t i = 0; i < n; i++)
			out[i] = h[i].rowid;
	}
};

struct Binary : Engine {
	size_t rerank;
	std::vector<uint64_t> codes;
	enum { W = DIM / 64 };
	explicit Binary(const std::string &n, size_t r) : rerank(r) {
		name = n;
		bytes = W * 8;
	}
	static void encode(const float *v, uint64_t *c) {
		for (int w = 0; w < W; w++) {
			c[w] = 0;
			for (int b = 0; b < 64; b++)
				c[w] |= (uint64_t)(v[w * 64 + b] > 0) << b;
		}
	}
	void add(const float *v, size_t n, size_t) override {
		size_t at = codes.size();
		codes.resize(at + n * W);
		for (size_t i = 0; i < n; i++)
			encode(v + i * DIM, &codes[at + i * W]);
	}
	void search(const float *q, int64_t *out) override {
		uint64_t qc[W];
		size_t n = codes.size() / W;
		std::vector<std::pair<int, int64_t>> c;
		encode(q, qc);
		c.reserve(n);
		for (size_t i = 0; i < n; i++) {
			int d = 0;
			for (int w = 0; w < W; w++)
				d += __builtin_popcountll(qc[w] ^ codes[i * W + w]);
			c.push_back({d, (int64_t)i});
		}
		size_t r = std::min(rerank, n);
		std::partial_sort(c.begin(), c.begin() + r, c.end());
		std::vector<std::pair<float, int64_t>> s;
		for (size_t i = 0; i < r; i++) {
			int64_t id;
			const float *f;
			const void *q8;
			float sc, dot = 0;
			rk_vec_get(store, c[i].second, &id, &f, &q8, &sc);
			for (int j = 0; j < DIM; j++)
				dot += q[j] * f[j];
			s.push_back({-dot, id});
		}
		std::partial_sort(s.begin(), s.begin() + K, s.end());
		for (int i = 0; i < K; i++)
			out[i] = s[i].second;
	}
};

struct Faiss : Engine {
	faiss::IndexFlatIP index{DIM};
	Faiss() { name = "faiss"; bytes = 4 * DIM; }
	void add(const float *v, size_t n, size_t) override {
		index.add(n, v);
	}
	void search(const float *q, int64_t *out) override {
		float d[K];
		faiss::Index::idx_t l[K];
		index.search(1, q, K, d, l);
		for (int i = 0; i < K; i++)
			out[i] = l[i];
	}
};

static std::unique_ptr<hnswlib::InnerProductSpace> space;
static std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnsw;

struct Hnsw : Engine {
	size_t ef;
	bool owner;
	Cached cache{"hnswlib-M16-efc200-rs100.bin"};
	Hnsw(const std::string &n, size_t e, size_t total, bool o)
	    : ef(e), owner(o) {
		name = n;
		if (owner && cache.probe()) {
			double t0 = now_ms();
			space.reset(new hnswlib::InnerProductSpace(DIM));
			hnsw.reset(new hnswlib::HierarchicalNSW<float>(
			    space.get(), cache.base, false, total));
			cached = true;
			build_ms = cache.build_ms;
			build_cpu_ms = cache.build_cpu_ms;
			load_ms = now_ms() - t0;
		} else if (owner) {
			space.reset(new hnswlib::InnerProductSpace(DIM));
			hnsw.reset(new hnswlib::HierarchicalNSW<float>(
			    space.get(), total, 16, 200, 100));
		}
		bytes = hnsw->size_data_per_element_ +
		    hnsw->size_links_per_element_ / 15.0;	/* 1/(M-1) upper levels */
	}
	void add(const float *v, size_t n, size_t first) override {
		if (!owner || cached)
			return;
		for (size_t i = 0; i < n; i++)
			hnsw->addPoint(v + i * DIM, first + i);
	}
	void finish() override {
		if (owner && cached)
			cache.check();
	}
	void save() override {
		if (owner && !cached && !cache.base.empty()) {
			hnsw->saveIndex(cache.base);
			cache.saved(build_ms, build_cpu_ms);
		}
	}
	void search(const float *q, int64_t *out) override {
		hnsw->setEf(ef);
		auto r = hnsw->searchKnn(q, K);
		for (int i = K - 1; i >= 0 && !r.empty(); i--) {
			out[i] = r.top().second;
			r.pop();
		}
	}
};

static std::vector<std::unique_ptr<Engine>>
engines(const char *list, size_t n)
{
	std::vector<std::unique_ptr<Engine>> v;
	std::string s(list);
	bool have_store = false, have_hnsw = false, have_graph = false;
	size_t at = 0;

	while (at <= s.size()) {
		size_t end = s.find(',', at);
		std::string e = s.substr(at, end == std::string::npos ?
		    std::string::npos : end - at);
		at = end == std::string::npos ? s.size() + 1 : end + 1;
		if (e.compare(0, 3, "ann") == 0) {
			v.emplace_back(new Ann(e, strtoul(e.c_str() + 3, NULL,
			    10), !have_store, !have_graph));
			have_store = have_graph = true;
		} else if (e[0] == 's' && isdigit((unsigned char)e[1])) {
			char *q;
			size_t st = strtoul(e.c_str() + 1, &q, 10);
			v.emplace_back(new Streams(e, st, strtoul(q + 1, NULL,
			    10)));
		} else if (e == "exact" || e[0] == 'q') {
			v.emplace_back(new Ours(e, e == "exact" ? 0 :
			    strtoul(e.c_str() + 1, NULL, 10), !have_store));
			have_store = true;
		} else if (e.compare(0, 3, "bin") == 0)
			v.emplace_back(new Binary(e,
			    strtoul(e.c_str() + 3, NULL, 10)));
		else if (e == "faiss")
			v.emplace_back(new Faiss());
		else if (e.compare(0, 4, "hnsw") == 0) {
			v.emplace_back(new Hnsw(e,
			    strtoul(e.c_str() + 4, NULL, 10), n, !have_hnsw));
			have_hnsw = true;
		} else {
			fprintf(stderr, "vector-bench: unknown engine %s\n",
			    e.c_str());
			exit(2);
		}
	}
	return v;
}

static double
pct(std::vector<double> t, double p)
{
	std::sort(t.begin(), t.end());
	return t[std::min(t.size() - 1, (size_t)(p * t.size()))];
}

static std::string
spread(std::vector<double> v)
{
	char buf[64];

	std::sort(v.begin(), v.end());
	snprintf(buf, sizeof(buf), "%8.3f [%.3f-%.3f]", v[v.size() / 2],
	    v.front(), v.back());
	return buf;
}

static double
recall(const std::vector<int64_t> &got, const std::vector<int64_t> &gt)
{
	size_t hit = 0;

	for (size_t q = 0; q < NQ; q++)
		for (size_t i = 0; i < K; i++)
			for (size_t j = 0; j < K; j++)
				hit += got[q * K + i] == gt[q * K + j];
	return (double)hit / (NQ * K);
}

/* the builds' CPU time (a shared machine stretches their wall time) */
static void
builds_cpu(const std::vector<std::unique_ptr<Engine>> &es)
{
	for (auto &e : es)
		if (e->build_ms >= 1000)
			printf("# %s: build %.1f s wall, %.1f s CPU%s\n",
			    e->name.c_str(), e->build_ms / 1e3,
			    e->build_cpu_ms / 1e3, !e->cached ? "" :
			    e->build_cpu_ms > 0 ? " (when it was built)" :
			    " (not recorded)");
}

/* graphs from the cache: how long the load took; the peak RSS */
static void
loads(const std::vector<std::unique_ptr<Engine>> &es)
{
	struct rusage ru;

	for (auto &e : es)
		if (e->cached)
			printf("# %s: graph from the cache, loaded in %.2f s\n",
			    e->name.c_str(), e->load_ms / 1e3);
	getrusage(RUSAGE_SELF, &ru);
	printf("# peak RSS %.2f GiB\n", ru.ru_maxrss / 1048576.0);
}

static void
report_builds(const std::vector<std::unique_ptr<Engine>> &es,
    const char *dist, size_t n)
{
	for (auto &e : es)
		printf("%-9s %7zu %-8s build %8.2f s%s  %5.0f B/vec  "
		    "(no queries)\n", dist, n, e->name.c_str(),
		    e->build_ms / 1e3, e->cached ? " cached" : "", e->bytes);
	builds_cpu(es);
	loads(es);
}

/* what a query cost besides wall time: CPU, context switches, faults */
struct usage {
	double	 cpu_ms;
	long	 nivcsw, nvcsw, minflt;
};

static struct usage
usage_now()
{
	struct rusage ru;
	struct timespec ts;

	getrusage(RUSAGE_THREAD, &ru);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return { ts.tv_sec * 1e3 + ts.tv_nsec / 1e6, ru.ru_nivcsw,
	    ru.ru_nvcsw, ru.ru_minflt };
}

static std::string
usage_since(const struct usage &u0)
{
	struct usage u = usage_now();
	char buf[96];

	snprintf(buf, sizeof(buf), "%.4f %ld %ld %ld", u.cpu_ms - u0.cpu_ms,
	    u.nivcsw - u0.nivcsw, u.nvcsw - u0.nvcsw, u.minflt - u0.minflt);
	return buf;
}

/*
 * Every query's time into $RK_VBENCH_TIMES: round, query, engine, wall
 * ms, CPU ms, involuntary and voluntary context switches, minor faults.
 */
static void
write_times(const std::vector<std::unique_ptr<Engine>> &es)
{
	const char *path = getenv("RK_VBENCH_TIMES");
	FILE *fp;

	if (path == NULL || *path == '\0')
		return;
	if ((fp = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	for (auto &e : es)
		for (size_t r = 0; r < e->times.size(); r++)
			for (size_t q = 0; q < e->times[r].size(); q++)
				fprintf(fp, "%zu %zu %s %.4f %s\n", r, q,
				    e->name.c_str(), e->times[r][q],
				    e->why[r * NQ + q].c_str());
	fclose(fp);
}

int
main(int argc, char *argv[])
{
	if (argc < 4) {
		fprintf(stderr, "usage: vector-bench DIST N ENGINES [ROUNDS [GT]]\n");
		return 2;
	}
	bool clustered = strcmp(argv[1], "clustered") == 0;
	size_t n = strtoul(argv[2], NULL, 10);
	int rounds = argc > 4 ? atoi(argv[4]) : 3;
	const char *gtpath = argc > 5 ? argv[5] : NULL;
	Gen gen(clustered, n);
	Rng r{SEED}, rq{4242};
	std::vector<float> chunk(CHUNK * DIM), qs(NQ * DIM);

	omp_set_num_threads(1);
	store = rk_vec_new(DIM);
	rk_vec_reserve(store, n, NULL);
	dist = argv[1];
	nvec = n;
	auto es = engines(argv[3], n);
	for (size_t first = 0; first < n; first += CHUNK) {
		size_t m = std::min<size_t>(CHUNK, n - first);
		for (size_t i = 0; i < m; i++)
			gen.fill(r, &chunk[i * DIM]);
		for (size_t i = 0; i < m; i++)
			vsum_add(&chunk[i * DIM], first + i);
		for (auto &e : es) {
			double t0 = now_ms(), c0 = cpu_ms();
			e->add(chunk.data(), m, first);
			if (!e->cached) {
				e->build_ms += now_ms() - t0;
				e->build_cpu_ms += cpu_ms() - c0;
			}
		}
	}
	for (auto &e : es) {
		double t0 = now_ms(), c0 = cpu_ms();
		e->finish();
		if (!e->cached) {
			e->build_ms += now_ms() - t0;
			e->build_cpu_ms += cpu_ms() - c0;
		}
	}
	for (auto &e : es)
		e->save();
	for (size_t i = 0; i < NQ; i++)
		gen.fill(rq, &qs[i * DIM]);
	for (auto &e : es)
		e->ids.resize(NQ * K, -1);
	for (int round = 0; round < rounds; round++) {
		for (auto &e : es)
			e->times.emplace_back();
		for (size_t q = 0; q < NQ; q++)
			for (auto &e : es) {
				int64_t out[K];
				struct usage u0 = usage_now();
				double t0 = now_ms();
				e->search(&qs[q * DIM], out);
				e->times.back().push_back(now_ms() - t0);
				e->why.push_back(usage_since(u0));
				if (round == 0)
					memcpy(&e->ids[q * K], out, sizeof(out));
			}
	}

	if (rounds < 1) {
		report_builds(es, argv[1], n);
		return 0;
	}
	write_times(es);
	std::vector<int64_t> gt(NQ * K, -1);
	for (auto &e : es)
		if (e->name == "exact")
			gt = e->ids;
	if (gtpath && es[0]->name == "exact") {
		FILE *fp = fopen(gtpath, "wb");
		fwrite(gt.data(), sizeof(int64_t), gt.size(), fp);
		fclose(fp);
	} else if (gtpath) {
		FILE *fp = fopen(gtpath, "rb");
		if (!fp || fread(gt.data(), sizeof(int64_t), gt.size(), fp) !=
		    gt.size()) {
			fprintf(stderr, "vector-bench: %s: no ground truth\n",
			    gtpath);
			return 1;
		}
		fclose(fp);
	}
	for (auto &e : es) {
		std::vector<double> p50, p99;
		for (auto &t : e->times) {
			p50.push_back(pct(t, 0.5));
			p99.push_back(pct(t, 0.99));
		}
		printf("%-9s %7zu %-8s build %8.2f s%s  %5.0f B/vec  p50 %s  "
		    "p99 %s  recall@10 %.4f\n", argv[1], n, e->name.c_str(),
		    e->build_ms / 1e3, e->cached ? " cached" : "", e->bytes,
		    spread(p50).c_str(), spread(p99).c_str(),
		    recall(e->ids, gt));
	}
	printf("# kernel %s, %d rounds of %d queries, k %d, dim %d, "
	    "single-threaded\n", rk_vec_simd_name(), rounds, NQ, K, DIM);
	builds_cpu(es);
	loads(es);
	rk_hnsw_free(graph);
	rk_vec_free(store);
	return 0;
}
