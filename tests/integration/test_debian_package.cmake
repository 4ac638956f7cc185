# The Debian package test installs logship on this machine (dpkg -i, then dpkg -P): nothing else
# may install or remove it at the same time.
set_tests_properties(integration.debian_package PROPERTIES RESOURCE_LOCK system_dpkg)
