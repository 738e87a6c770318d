/* synth.c - placeholder until the generator lands. */
#include "config.h"
#include "synth/synth.h"
int sl_synth_placeholder(void);
int sl_synth_placeholder(void) { return 0; }
