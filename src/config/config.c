#include "config.h"
#include "config/config.h"
