"""newslake core: settings, AWS clients and the local platform shared by every part."""
