"""The one exception the kit raises for bad input."""


class NanoSIMSError(ValueError):
    """Bad input to a kit function: says what is wrong and what to do.

    A subclass of :class:`ValueError`, so ``except ValueError`` catches it too.

    Examples
    --------
    >>> raise NanoSIMSError("image.tif: not a TIFF file. Export the image as TIFF.")
    Traceback (most recent call last):
    ...
    nanosims_helpers.errors.NanoSIMSError: image.tif: not a TIFF file. Export the image as TIFF.
    """
