// The first example of the original flare README: Z = X + Y, computed as soon as it is written.
#include <iostream>

#include "flare/flare.h"

int main() {
  flare::Graph g;
  flare::Expr x = g.input(flare::Shape{2}, {2, 3});
  flare::Expr y = g.input(flare::Shape{2}, {3, 4});
  flare::Expr z = x + y;
  std::cout << "X + Y = " << z.value() << "\n";
  std::cout << "{\"example\": \"hello\", \"z\": [" << z.value().at(0) << ", " << z.value().at(1) << "]}\n";
  return 0;
}
