#pragma once
/// Everything in flare::nn: models, initialisers and modules.
#include "flare/nn/conv1d.h"
#include "flare/nn/dropout.h"
#include "flare/nn/embedding.h"
#include "flare/nn/init.h"
#include "flare/nn/linear.h"
#include "flare/nn/model.h"
#include "flare/nn/module.h"
#include "flare/nn/rnn.h"
#include "flare/nn/rnn_cell.h"
#include "flare/nn/tree_lstm.h"
