#pragma once
/// The umbrella header: everything a flare user needs.
#include "flare/backend.h"
#include "flare/device.h"
#include "flare/dtype.h"
#include "flare/error.h"
#include "flare/graph.h"
#include "flare/ops.h"
#include "flare/parameter.h"
#include "flare/shape.h"
#include "flare/tensor.h"
