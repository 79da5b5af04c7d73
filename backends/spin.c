/* spin.c -- the spinlock strategy: the example plug-in examples/spin.c, built in as "spin". */
#define SPIN_BUILTIN
#include "../examples/spin.c"
