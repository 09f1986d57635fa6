#include "cli/cli.hpp"

int main(int argc, char **argv) { return rf::cli::main(argc, argv); }
