#include "control/control.h"
