"""Data sets: the record every data set is written as (``dataset``), the synthetic data of
Section 3.4 (``synthetic``), the one registry of image sources (``sources``) and their readers
(``torchvision_files``, ``bundled``, ``npz_source``), the two-class image data sets of
Section 4.2 (``images``) and their Gaussian clone (``gaussian_clone``)."""
