// A loadable shared library without the plugin entry points.
extern "C" int stratum_test_not_a_plugin() { return 1; }
