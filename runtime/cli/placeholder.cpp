// Placeholder so the library has a source until the commands land.
namespace ctr::runtime_cli {}
