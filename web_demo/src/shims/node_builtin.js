// The wasm backend's browser build still imports Node built-ins (fs, path, os, perf_hooks) that it only uses
// under Node; the page's import map points those names here.
export default {};
