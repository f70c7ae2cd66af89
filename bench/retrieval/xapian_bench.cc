// The same job for Xapian, as a baseline for rk-search.
//
//   xapian-bench index DBDIR DOCS.tsv      "id<TAB>text" lines
//   xapian-bench query DBDIR QUERIES.tsv [ROUNDS]
//   xapian-bench one DBDIR QUERY           one query, its top 10 printed
//
// Indexing: TermGenerator with the English Porter stemmer (STEM_SOME) and
// the same 33 stopwords as rk-search, a commit every 1000 documents like
// rk-search's batches (XAPIAN_BATCH=n to change; Xapian's own default is
// 10000), DB_NO_SYNC as rk-search does not fsync each commit either.  Queries: QueryParser, default OR,
// the same stopwords and stemmer, BM25Weight(k1 1.2, k2 0, k3 1, b 0.6),
// top 10.  Query times include parsing, as rk-search's include analysis.
// A document's data is its whole line, so that `one`, the peer of one
// rk-search process, prints each hit's name, score and text as rk-search
// does.
#include <xapian.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

static const char *stop[] = {
	"a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if",
	"in", "into", "is", "it", "no", "not", "of", "on", "or", "such",
	"that", "the", "their", "then", "there", "these", "they", "this",
	"to", "was", "will", "with",
};

static double
now_ms()
{
	using namespace std::chrono;
	return duration<double, std::milli>(
	    steady_clock::now().time_since_epoch()).count();
}

static void
report(const char *name, std::vector<double> t)
{
	double sum = 0;

	std::sort(t.begin(), t.end());
	for (double x : t)
		sum += x;
	std::printf("%-16s p50 %8.3f ms  p99 %8.3f ms  mean %8.3f ms  "
	    "(%zu runs)\n", name, t[t.size() / 2], t[t.size() * 99 / 100],
	    sum / t.size(), t.size());
}

static void
configure(Xapian::Enquire &enq, Xapian::QueryParser &qp,
    const Xapian::Stem &stem, Xapian::SimpleStopper &stopper)
{
	qp.set_stemmer(stem);
	qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
	qp.set_stopper(&stopper);
	qp.set_default_op(Xapian::Query::OP_OR);
	enq.set_weighting_scheme(Xapian::BM25Weight(1.2, 0, 1, 0.6, 0.5));
}

// One query as its own process: the top 10 as "name<TAB>score<TAB>text"
static int
one(const char *dir, const char *query, const Xapian::Stem &stem,
    Xapian::SimpleStopper &stopper)
{
	Xapian::Database db(dir);
	Xapian::Enquire enq(db);
	Xapian::QueryParser qp;

	configure(enq, qp, stem, stopper);
	enq.set_query(qp.parse_query(query));
	Xapian::MSet m = enq.get_mset(0, 10);
	for (Xapian::MSetIterator i = m.begin(); i != m.end(); ++i) {
		std::string d = i.get_document().get_data();
		size_t tab = d.find('\t');

		std::printf("%s\t%.4f\t%s\n", d.substr(0, tab).c_str(),
		    i.get_weight(), d.substr(tab + 1).c_str());
	}
	return 0;
}

int
main(int argc, char **argv)
{
	Xapian::SimpleStopper stopper(stop, stop + sizeof(stop) /
	    sizeof(*stop));
	Xapian::Stem stem("english");

	if (argc < 4) {
		std::fprintf(stderr, "usage: xapian-bench index|query|one "
		    "DBDIR FILE|QUERY [ROUNDS]\n");
		return 2;
	}
	std::string cmd = argv[1], line;

	if (cmd == "one")
		return one(argv[2], argv[3], stem, stopper);

	std::ifstream in(argv[3]);

	if (!in) {
		std::perror(argv[3]);
		return 5;
	}
	if (cmd == "index") {
		// commits every 1000 documents, each synced, as rk-search's
		// rollback journal with synchronous=FULL does
		Xapian::WritableDatabase db(argv[2],
		    Xapian::DB_CREATE_OR_OVERWRITE);
		Xapian::TermGenerator tg;
		const char *bs = std::getenv("XAPIAN_BATCH");
		size_t n = 0, batch = bs ? std::strtoul(bs, NULL, 10) : 1000;

		tg.set_stemmer(stem);
		tg.set_stopper(&stopper);
		tg.set_stopper_strategy(Xapian::TermGenerator::STOP_ALL);
		while (std::getline(in, line)) {
			size_t tab = line.find('\t');
			Xapian::Document doc;

			if (tab == std::string::npos)
				continue;
			doc.set_data(line);
			tg.set_document(doc);
			tg.index_text(line.substr(tab + 1));
			doc.add_boolean_term("Q" + line.substr(0, tab));
			db.add_document(doc);
			if (++n % batch == 0)
				db.commit();
		}
		db.commit();
		return 0;
	}
	Xapian::Database db(argv[2]);
	Xapian::Enquire enq(db);
	Xapian::QueryParser qp;
	std::vector<std::string> qs;
	std::vector<double> t;
	int rounds = argc > 4 ? std::atoi(argv[4]) : 3;

	configure(enq, qp, stem, stopper);
	while (std::getline(in, line)) {
		size_t tab = line.find('\t');
		qs.push_back(tab == std::string::npos ? line :
		    line.substr(tab + 1));
	}
	for (auto &q : qs) {		// warm up
		enq.set_query(qp.parse_query(q));
		enq.get_mset(0, 10);
	}
	for (int r = 0; r < rounds; r++)
		for (auto &q : qs) {
			double t0 = now_ms();

			enq.set_query(qp.parse_query(q));
			Xapian::MSet m = enq.get_mset(0, 10);
			t.push_back(now_ms() - t0);
		}
	report("xapian", t);
	return 0;
}
