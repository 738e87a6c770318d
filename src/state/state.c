#include "config.h"
#include "state/state.h"
