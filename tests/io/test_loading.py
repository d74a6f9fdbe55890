"""load_image on bad input: every failure is a NanoSIMSError that names the file and says what to do."""

import numpy as np
import pytest
import tifffile

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.image import NanoSIMSImage
from nanosims_helpers.io.loading import load_image, save_image_tiff


def _imagej_file(path, n_masses=3, shape=(32, 32)):
    counts = np.random.default_rng(0).poisson(50.0, shape + (n_masses,)).astype(float)
    return save_image_tiff(NanoSIMSImage(counts, tuple(f"m{i}" for i in range(n_masses))), path)


def test_missing_file(tmp_path):
    with pytest.raises(NanoSIMSError, match=r"nowhere\.tif: no such file"):
        load_image(tmp_path / "nowhere.tif")


def test_folder_instead_of_file(tmp_path):
    folder = tmp_path / "images.tif"
    folder.mkdir()
    with pytest.raises(NanoSIMSError, match=r"images\.tif: is a folder.*glob"):
        load_image(folder)


@pytest.mark.parametrize("name", ["empty.tif", "empty.im"])
def test_empty_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(NanoSIMSError, match=rf"{name}: the file is empty"):
        load_image(tmp_path / name)


@pytest.mark.parametrize("name", ["image.png", "image.txt", "image.npy", "image"])
def test_unsupported_ending(tmp_path, name):
    _imagej_file(tmp_path / "real.tif").rename(tmp_path / name)
    with pytest.raises(NanoSIMSError, match=rf"{name}: cannot read .*\.tif, \.tiff.*\.im"):
        load_image(tmp_path / name)


def test_png_renamed_to_tif(tmp_path):
    import matplotlib.pyplot as plt

    path = tmp_path / "picture.tif"
    plt.imsave(path, np.ones((8, 8)), format="png")
    with pytest.raises(NanoSIMSError, match=r"picture\.tif: not a TIFF file, it is a PNG image"):
        load_image(path)


def test_im_file_renamed_to_tif(tmp_path):
    path = tmp_path / "acquisition.tif"
    path.write_bytes(b"\x00\x00\x00\x08" * 64)
    with pytest.raises(NanoSIMSError, match=r"acquisition\.tif: cannot be read as a TIFF"):
        load_image(path)


def _write_pages(path):
    tifffile.imwrite(path, np.ones((4, 32, 32), np.uint16), photometric="minisblack", metadata=None)


def _write_one_page(path):
    tifffile.imwrite(path, np.ones((64, 64), np.uint16))


@pytest.mark.parametrize("fraction", [0.5, 0.9, 0.01])
@pytest.mark.parametrize(
    "write", [_imagej_file, _write_pages, _write_one_page], ids=["imagej", "pages", "one_page"]
)
def test_truncated_tiff(tmp_path, fraction, write):
    source = tmp_path / "full.tif"
    write(source)
    data = source.read_bytes()
    path = tmp_path / "cut.tif"
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(NanoSIMSError, match=r"cut\.tif: .*(damaged|truncated)"):
        load_image(path)


def test_garbage_im_file(tmp_path):
    path = tmp_path / "noise.im"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(NanoSIMSError, match=r"noise\.im: cannot be read as a Cameca \.im") as info:
        load_image(path)
    assert info.value.__cause__ is not None  # the parser's own error is kept for maintainers


def test_tiff_renamed_to_im(tmp_path):
    path = _imagej_file(tmp_path / "stack.tif").rename(tmp_path / "stack.im")
    with pytest.raises(NanoSIMSError, match=r"stack\.im: cannot be read as a Cameca \.im"):
        load_image(path)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_infinite_pixels(tmp_path, bad):
    counts = np.ones((3, 16, 16), np.float32)
    counts[1, 4, 5] = bad
    path = tmp_path / "holes.tif"
    tifffile.imwrite(path, counts, imagej=True, metadata={"axes": "CYX"})
    with pytest.raises(NanoSIMSError, match=r"holes\.tif: 1 pixel value\(s\) are NaN or infinite.*Replace"):
        load_image(path)


@pytest.mark.parametrize("dtype", [np.int16, np.float32])
def test_negative_counts(tmp_path, dtype):
    counts = np.ones((3, 16, 16), dtype)
    counts[2, 0, 0] = -4
    path = tmp_path / "negative.tif"
    tifffile.imwrite(path, counts, photometric="minisblack", metadata=None)
    message = r"negative\.tif: 1 pixel value\(s\) are negative.*cannot be negative"
    with pytest.raises(NanoSIMSError, match=message):
        load_image(path)


def test_complex_values_are_not_counts(tmp_path):
    path = tmp_path / "complex.tif"
    tifffile.imwrite(path, np.ones((2, 8, 8), np.complex64), photometric="minisblack", metadata=None)
    with pytest.raises(NanoSIMSError, match=r"complex\.tif: pixel values of type complex64"):
        load_image(path)


def test_zero_channel_and_constant_image_load(tmp_path):
    counts = np.full((16, 24, 3), 7.0)
    counts[:, :, 1] = 0
    image = load_image(save_image_tiff(NanoSIMSImage(counts, ("a", "b", "c")), tmp_path / "flat.tif"))
    np.testing.assert_array_equal(image.counts, counts)
    zeros = load_image(save_image_tiff(NanoSIMSImage(np.zeros((4, 4, 2)), ("a", "b")), tmp_path / "zero.tif"))
    assert zeros.counts.sum() == 0


def test_single_mass_tiff_loads_as_one_channel(tmp_path):
    path = tmp_path / "one.tif"
    tifffile.imwrite(path, np.arange(64, dtype=np.uint16).reshape(8, 8))
    image = load_image(path, masses=["12C"])
    assert image.shape == (8, 8, 1) and image.masses == ("12C",)


def test_dead_time_correction_needs_an_im_file(tmp_path):
    path = _imagej_file(tmp_path / "stack.tif")
    with pytest.raises(NanoSIMSError, match=r"stack\.tif: dead_time_correction .*\.im"):
        load_image(path, dead_time_correction=True)


def test_path_of_wrong_type():
    with pytest.raises(NanoSIMSError, match="path: expected a file path, got int"):
        load_image(42)
