#pragma once
/// Everything in flare::optim: optimizers, gradient clipping, constraints and learning-rate
/// schedules.
#include "flare/optim/adadelta.h"
#include "flare/optim/adagrad.h"
#include "flare/optim/adam.h"
#include "flare/optim/clip.h"
#include "flare/optim/constraints.h"
#include "flare/optim/optimizer.h"
#include "flare/optim/scheduler.h"
#include "flare/optim/sgd.h"
