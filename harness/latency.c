/* latency.c -- merging latency histograms and reading percentiles from them. */
#include "latency.h"

void latency_merge(struct latency_hist *into, const struct latency_hist *from)
{
	unsigned i;

	for (i = 0; i < LAT_BUCKETS; i++)
		into->bucket[i] += from->bucket[i];
	into->count += from->count;
	if (from->max > into->max)
		into->max = from->max;
}

/* The middle of bucket i: within half a bucket width (< 0.4%) of every sample in it. */
static double bucket_mid(unsigned i)
{
	unsigned e, sub;
	double low, width;

	if (i < LAT_SUB)
		return i;
	e = (i - LAT_SUB) / LAT_SUB + LAT_SUB_BITS;
	sub = (i - LAT_SUB) % LAT_SUB;
	width = (double)(1ULL << (e - LAT_SUB_BITS));
	low = (double)(1ULL << e) + sub * width;
	return low + width / 2;
}

static double percentile(const struct latency_hist *h, double q)
{
	uint64_t rank = (uint64_t)(q * (double)h->count), seen = 0;
	unsigned i;

	if (rank >= h->count)
		rank = h->count - 1;
	for (i = 0; i < LAT_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen > rank)
			return bucket_mid(i) < (double)h->max ? bucket_mid(i) : (double)h->max;
	}
	return (double)h->max;
}

void latency_summarize(const struct latency_hist *h, struct latency_summary *out)
{
	out->count = h->count;
	out->max = (double)h->max;
	if (!h->count) {
		out->p50 = out->p90 = out->p99 = out->p999 = 0;
		return;
	}
	out->p50 = percentile(h, 0.50);
	out->p90 = percentile(h, 0.90);
	out->p99 = percentile(h, 0.99);
	out->p999 = percentile(h, 0.999);
}
