#include "config.h"
#include "pipeline/pipeline.h"
