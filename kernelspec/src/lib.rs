//! Jupyter kernelspec install, uninstall and lookup for prov-kernel.
