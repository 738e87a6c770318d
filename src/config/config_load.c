/* config_load.c - loading and checking sluice.xml (to come). */
#include "config.h"
#include "config/config.h"
