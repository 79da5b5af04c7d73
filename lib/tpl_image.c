/* tpl_image.c -- walk a tpl image's own format over its data, never past its end. */
#include <stdint.h>
#include <string.h>

#include "mmshare.h"
#include "tpl_image.h"

/*
 * Layout (tpl 1.6.1, src/tpl.c: tpl_dump_to_mem, tpl_sanity, tpl_serlen, tpl_unpack):
 *   "tpl", flags (bit 0 big-endian, bit 1 null strings), uint32 total length,
 *   format string and its NUL, one uint32 per '#' in format order, then the data in format order.
 * tpl_dump_to_mem writes bit 0 exactly when the CPU is big-endian and bit 1 exactly when the
 * format holds an 's'; no other flags byte comes from tpl 1.6.1. Without bit 1, tpl_sanity
 * checks strings in tpl 1.2's format (plain length), but tpl_load (memory mode) then overwrites
 * the node's flags, dropping that mode, and tpl_unpack reads them as length + 1: far past the
 * image. So the flags byte must be exactly the one tpl would write for this format here.
 * tpl_sanity reads an A(...) count as a signed int, so a count >= 2^31 passes it as "no elements",
 * while tpl_unpack takes it as unsigned and unpacks an element from the bytes after the count:
 * past the end of the image when the array comes last (see tests/test_tpl_fuzz.c).
 *
 * The grammar accepted here is a subset of what tpl_map accepts, limited to what it parses the
 * way this walk reads it: quirks that tpl_map tolerates ("AS(i)", a trailing "A", '#' after the
 * ')' of an A or a $) are refused. No map can match a format tpl_map refuses, so refusing more
 * than tpl only turns a load error into MMS_EFORMAT earlier.
 */

#define TPL_FL_BIGENDIAN   0x01
#define TPL_FL_NULLSTRINGS 0x02
#define TPL_PREAMBLE       8            /* "tpl", flags, uint32 length */

struct walk {
	const unsigned char *img;
	size_t len;
	size_t pos;                     /* next data byte to read */
	const char *fmt;                /* the image's format string, NUL-terminated inside img */
	size_t flen;
	size_t fxpos;                   /* offset of the uint32 '#' lengths */
	size_t npound;
	/* for '(' the index of its ')'; for the first '#' of a run, the product of the run */
	uint32_t aux[MMS_TPL_MAX_FMT + 1];
};

/* What the item before the current format character was (for '#' and ')'). */
enum prev_kind { PREV_NONE, PREV_ATOM, PREV_OPEN, PREV_CLOSE_S, PREV_OTHER };

/* The format parser's state: open groups, what must come next, where the '#' lengths are. */
struct parse {
	size_t open[MMS_TPL_MAX_DEPTH];         /* index of each open '(' */
	char kind[MMS_TPL_MAX_DEPTH];           /* 'A', 'S' or '$' that opened it */
	int depth;
	char expect;                            /* 'A', 'S' or '$' seen, its '(' due next */
	int in_s;                               /* inside S(...): no A, B or S */
	enum prev_kind prev;
	size_t pound;                           /* ordinal of the next '#' */
};

/* Bytes one element of a fixed-size atom takes in the image; 0 when c is not such an atom. */
static size_t atom_size(char c)
{
	switch (c) {
	case 'c':
		return 1;
	case 'j': case 'v':
		return 2;
	case 'i': case 'u':
		return 4;
	case 'I': case 'U': case 'f':
		return 8;
	default:
		return 0;
	}
}

static int is_atom(char c)
{
	return c == 's' || atom_size(c) != 0;
}

static uint32_t load_u32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static size_t remaining(const struct walk *w)
{
	return w->len - w->pos;
}

/* Consume n data bytes, or fail when fewer remain. */
static int take(struct walk *w, uint64_t n)
{
	if (n > remaining(w))
		return MMS_EFORMAT;
	w->pos += (size_t)n;
	return 0;
}

/* Consume a uint32 from the data into *v. */
static int take_u32(struct walk *w, uint32_t *v)
{
	if (remaining(w) < sizeof(*v))
		return MMS_EFORMAT;
	*v = load_u32(w->img + w->pos);
	w->pos += sizeof(*v);
	return 0;
}

/* The flags byte tpl 1.6.1's tpl_dump_to_mem writes for a format of flen bytes on this CPU. */
static unsigned char dump_flags(const char *fmt, size_t flen)
{
	unsigned char flags = 0;

	if (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
		flags |= TPL_FL_BIGENDIAN;
	if (memchr(fmt, 's', flen))
		flags |= TPL_FL_NULLSTRINGS;
	return flags;
}

/* Magic, total length, where the format string ends, and the flags tpl writes for it. */
static int check_preamble(struct walk *w)
{
	const unsigned char *nul;

	if (w->len < TPL_PREAMBLE + 1 || w->len > UINT32_MAX)
		return MMS_EFORMAT;
	if (memcmp(w->img, "tpl", 3) != 0)
		return MMS_EFORMAT;
	if (load_u32(w->img + 4) != w->len)
		return MMS_EFORMAT;
	nul = memchr(w->img + TPL_PREAMBLE, 0, w->len - TPL_PREAMBLE);
	if (!nul)
		return MMS_EFORMAT;
	w->fmt = (const char *)w->img + TPL_PREAMBLE;
	w->flen = (size_t)(nul - (w->img + TPL_PREAMBLE));
	if (w->flen > MMS_TPL_MAX_FMT)
		return MMS_EFORMAT;
	if (w->img[3] != dump_flags(w->fmt, w->flen))
		return MMS_EFORMAT;
	return 0;
}

/* Count the '#' and check that their uint32 lengths lie inside the image. */
static int locate_fxlens(struct walk *w)
{
	size_t k;

	w->npound = 0;
	for (k = 0; k < w->flen; k++)
		if (w->fmt[k] == '#')
			w->npound++;
	w->fxpos = TPL_PREAMBLE + w->flen + 1;
	if (w->npound > (w->len - w->fxpos) / 4)
		return MMS_EFORMAT;
	w->pos = w->fxpos + 4 * w->npound;
	return 0;
}

/*
 * The run of '#' starting at fmt[i]: read the next lengths (tpl_map takes them as positive ints),
 * store their product in aux[i] and return the run's length, or MMS_EFORMAT. A product larger
 * than the image cannot be satisfied: every element takes at least one byte.
 */
static int pound_run(struct walk *w, size_t i, size_t *pound)
{
	uint64_t prod = 1;
	uint32_t v;
	int run = 0;

	while (i + run < w->flen && w->fmt[i + run] == '#') {
		if (++run > MMS_TPL_MAX_POUND)
			return MMS_EFORMAT;
		v = load_u32(w->img + w->fxpos + 4 * (*pound)++);
		if (v == 0 || v > INT32_MAX)
			return MMS_EFORMAT;
		prod *= v;
		if (prod > w->len)
			return MMS_EFORMAT;
	}
	w->aux[i] = (uint32_t)prod;
	return run;
}

/* '(' must follow A, S or $, and nesting is bounded. */
static int parse_open(struct parse *p, size_t i)
{
	if (!p->expect || p->depth == MMS_TPL_MAX_DEPTH)
		return MMS_EFORMAT;
	p->open[p->depth] = i;
	p->kind[p->depth++] = p->expect;
	p->expect = 0;
	p->prev = PREV_OPEN;
	return 0;
}

/* ')' closes a non-empty group; record where, for the walk. */
static int parse_close(struct walk *w, struct parse *p, size_t i)
{
	char kind;

	if (p->depth == 0 || p->prev == PREV_OPEN)
		return MMS_EFORMAT;
	p->depth--;
	kind = p->kind[p->depth];
	w->aux[p->open[p->depth]] = (uint32_t)i;
	if (kind == 'S')
		p->in_s = 0;
	/* tpl_map repeats S(...)# but misreads '#' after the ')' of an A or a $ */
	p->prev = kind == 'S' ? PREV_CLOSE_S : PREV_OTHER;
	return 0;
}

/* A, S, B and $: where tpl_map allows them, and the '(' that A, S and $ need. */
static int parse_group(struct parse *p, char c)
{
	if (c == '$' ? !p->in_s : p->in_s)
		return MMS_EFORMAT;
	if (c == 'S')
		p->in_s = 1;
	if (c != 'B')
		p->expect = c;
	p->prev = PREV_OTHER;
	return 0;
}

/* Check fmt[*i] against the grammar; *i may advance to the last '#' of a run. */
static int parse_char(struct walk *w, struct parse *p, size_t *i)
{
	char c = w->fmt[*i];
	int run;

	if (p->expect && c != '(')
		return MMS_EFORMAT;
	switch (c) {
	case '(':
		return parse_open(p, *i);
	case ')':
		return parse_close(w, p, *i);
	case '#':
		if (p->prev != PREV_ATOM && p->prev != PREV_CLOSE_S)
			return MMS_EFORMAT;
		run = pound_run(w, *i, &p->pound);
		if (run < 0)
			return run;
		*i += (size_t)run - 1;
		p->prev = PREV_OTHER;
		return 0;
	case 'A':
	case 'S':
	case 'B':
	case '$':
		return parse_group(p, c);
	default:
		if (!is_atom(c))
			return MMS_EFORMAT;
		p->prev = PREV_ATOM;
		return 0;
	}
}

/* Check the format string's grammar, match its parentheses and multiply out its '#' runs. */
static int parse_format(struct walk *w)
{
	struct parse p = { .prev = PREV_NONE };
	size_t i;
	int err;

	for (i = 0; i < w->flen; i++) {
		err = parse_char(w, &p, &i);
		if (err)
			return err;
	}
	if (p.expect || p.depth)
		return MMS_EFORMAT;
	return 0;
}

/* How many times the item ending before fmt[*k] repeats; moves *k past its '#' run. */
static uint32_t repeat_count(const struct walk *w, size_t *k)
{
	uint32_t n = 1;

	if (w->fmt[*k] == '#') {
		n = w->aux[*k];
		while (w->fmt[*k] == '#')
			(*k)++;
	}
	return n;
}

static int walk_seq(struct walk *w, size_t i, size_t end);

/*
 * n strings: a uint32 length word each (length + 1, 0 for NULL: the flags byte is checked to say
 * so), then the bytes it announces.
 */
static int walk_strings(struct walk *w, uint32_t n)
{
	uint32_t v;
	int err;

	while (n--) {
		err = take_u32(w, &v);
		if (err)
			return err;
		err = take(w, v > 1 ? v - 1 : 0);
		if (err)
			return err;
	}
	return 0;
}

/* A(...) whose inside is fmt[i..end): a count, then count walks of the inside. */
static int walk_array(struct walk *w, size_t i, size_t end)
{
	uint32_t count;
	int err;

	err = take_u32(w, &count);
	if (err)
		return err;
	/* tpl_sanity would read >= 2^31 as "none"; every element takes at least one byte */
	if (count > INT32_MAX || count > remaining(w))
		return MMS_EFORMAT;
	while (count--) {
		err = walk_seq(w, i, end);
		if (err)
			return err;
	}
	return 0;
}

/* S(...) or $(...) whose inside is fmt[i..end), n times. */
static int walk_group(struct walk *w, size_t i, size_t end, uint32_t n)
{
	int err;

	if (n > remaining(w))
		return MMS_EFORMAT;
	while (n--) {
		err = walk_seq(w, i, end);
		if (err)
			return err;
	}
	return 0;
}

/* One item starting at fmt[*k]; moves *k past it and its '#' run. */
static int walk_item(struct walk *w, size_t *k)
{
	char c = w->fmt[*k];
	size_t open = *k + 1, close;
	uint32_t v;
	int err;

	switch (c) {
	case 'A':
		close = w->aux[open];
		*k = close + 1;
		return walk_array(w, open + 1, close);
	case 'S':
	case '$':
		close = w->aux[open];
		*k = close + 1;
		return walk_group(w, open + 1, close, repeat_count(w, k));
	case 'B':
		(*k)++;
		err = take_u32(w, &v);
		return err ? err : take(w, v);
	case 's':
		(*k)++;
		return walk_strings(w, repeat_count(w, k));
	default:
		(*k)++;
		return take(w, (uint64_t)repeat_count(w, k) * atom_size(c));
	}
}

/* Walk the items of fmt[i..end) once. */
static int walk_seq(struct walk *w, size_t i, size_t end)
{
	int err;

	while (i < end) {
		err = walk_item(w, &i);
		if (err)
			return err;
	}
	return 0;
}

int mms_tpl_image_check(const void *img, size_t len)
{
	struct walk w;          /* aux is left uninitialised: parse_format writes what walk reads */
	int err;

	if (!img)
		return MMS_EFORMAT;
	w.img = img;
	w.len = len;
	w.pos = 0;
	err = check_preamble(&w);
	if (!err)
		err = locate_fxlens(&w);
	if (!err)
		err = parse_format(&w);
	if (!err)
		err = walk_seq(&w, 0, w.flen);
	if (!err && w.pos != w.len)
		err = MMS_EFORMAT;
	return err;
}
