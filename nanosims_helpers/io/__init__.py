"""Reading and writing images: the image container, TIFF and Cameca .im readers, the samples, the real
files, and the files the command line writes."""
