/* latency.h -- a log-linear latency histogram with under 1% relative error per bucket. */
#ifndef MMS_LATENCY_H
#define MMS_LATENCY_H

#include <stdint.h>

#define LAT_SUB_BITS 7                              /* 128 sub-buckets per power of two: < 0.8% wide */
#define LAT_SUB      (1u << LAT_SUB_BITS)
#define LAT_BUCKETS  (LAT_SUB + (64 - LAT_SUB_BITS) * LAT_SUB)

struct latency_hist {
	uint64_t count;                 /* samples recorded */
	uint64_t max;                   /* largest sample, exact */
	uint64_t bucket[LAT_BUCKETS];   /* samples per bucket (latency_bucket) */
};

/* Percentiles of one or more merged histograms, ns. */
struct latency_summary {
	uint64_t count;
	double p50, p90, p99, p999, max;
};

static inline unsigned latency_bucket(uint64_t ns)
{
	unsigned e;

	if (ns < LAT_SUB)
		return (unsigned)ns;
	e = 63 - (unsigned)__builtin_clzll(ns);
	return LAT_SUB + (e - LAT_SUB_BITS) * LAT_SUB + (unsigned)((ns >> (e - LAT_SUB_BITS)) & (LAT_SUB - 1));
}

static inline void latency_record(struct latency_hist *h, uint64_t ns)
{
	h->bucket[latency_bucket(ns)]++;
	h->count++;
	if (ns > h->max)
		h->max = ns;
}

void latency_merge(struct latency_hist *into, const struct latency_hist *from);
void latency_summarize(const struct latency_hist *h, struct latency_summary *out);

#endif
