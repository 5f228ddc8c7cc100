#include <flare/flare.h>

#include <iostream>

int main() {
  flare::Graph g;
  flare::Expr z = g.input(flare::Shape{2}, {2, 3}) + g.input(flare::Shape{2}, {3, 4});
  std::cout << z.value().at(0) << " " << z.value().at(1) << "\n";
  return z.value().at(0) == 5 && z.value().at(1) == 7 ? 0 : 1;
}
