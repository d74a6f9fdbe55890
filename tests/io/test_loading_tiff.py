"""load_image on TIFF stacks in every layout, and the save_image_tiff round trip."""

import numpy as np
import pytest
import tifffile

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.image import NanoSIMSImage
from nanosims_helpers.io.loading import load_image, save_image_tiff
from nanosims_helpers.io.tiff import write_imagej
from nanosims_helpers.runs.outputs import write_label_tiff

SHAPES = [(200, 320, 3), (16, 16, 3), (20, 32, 7)]


def encoded(ny, nx, nm):
    """(y, x, mass) counts whose value 4096 y + 8 x + m tells where each pixel came from.

    Exact in float32 (also times 6) for the sizes used here, so a transpose or a mixed-up
    mass is visible.
    """
    assert nx <= 512 and nm <= 8
    y, x, m = np.meshgrid(np.arange(ny), np.arange(nx), np.arange(nm), indexing="ij")
    return (4096 * y + 8 * x + m).astype(np.float32)


def _names(nm):
    return [f"m{i}" for i in range(nm)]


# Writers of layouts without metadata that names the axes: (y, x, mass) counts -> file.
def _yxm_samples(path, counts):  # one page, masses as samples per pixel
    tifffile.imwrite(path, counts, photometric="minisblack", planarconfig="contig")


def _yxm_pages(path, counts):  # tifffile's default for a (y, x, mass) array: one page per row
    tifffile.imwrite(path, counts, photometric="minisblack")


def _yxm_pages_no_shape(path, counts):
    tifffile.imwrite(path, counts, photometric="minisblack", metadata=None)


def _myx_pages(path, counts):  # one page per mass
    tifffile.imwrite(path, np.moveaxis(counts, 2, 0), photometric="minisblack", metadata=None)


def _myx_planar(path, counts):  # one page, masses as separate sample planes
    tifffile.imwrite(path, np.moveaxis(counts, 2, 0), photometric="minisblack", planarconfig="separate")


PLAIN_LAYOUTS = [_yxm_samples, _yxm_pages, _yxm_pages_no_shape, _myx_pages, _myx_planar]


@pytest.mark.parametrize("write", PLAIN_LAYOUTS, ids=lambda f: f.__name__.strip("_"))
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_plain_layouts_keep_orientation_and_mass_order(tmp_path, write, shape):
    counts = encoded(*shape)
    path = tmp_path / "plain.tif"
    write(path, counts)
    image = load_image(path)
    assert image.shape == shape
    np.testing.assert_array_equal(image.counts, counts)
    assert image.masses == tuple(f"mass {i + 1}" for i in range(shape[2]))
    assert image.counts.dtype == np.float64


@pytest.mark.parametrize("write", [_myx_pages, _myx_planar], ids=lambda f: f.__name__.strip("_"))
def test_cube_without_metadata_follows_pages(tmp_path, write):
    counts = encoded(3, 3, 3)
    path = tmp_path / "cube.tif"
    write(path, counts)
    np.testing.assert_array_equal(load_image(path).counts, counts)


@pytest.mark.parametrize("shape", [(200, 320, 3), (16, 16, 3)], ids=str)
@pytest.mark.parametrize("layout", ["pages", "samples"])
def test_plane_mass_y_x_sums_planes(tmp_path, layout, shape):
    counts = encoded(*shape)
    planes = np.stack([counts, 2 * counts])  # (plane, y, x, mass)
    path = tmp_path / "planes.tif"
    if layout == "pages":  # (plane, mass, y, x), one page per plane and mass
        tifffile.imwrite(path, np.moveaxis(planes, 3, 1), photometric="minisblack")
    else:  # (plane, y, x, mass), one page per plane, masses as samples
        tifffile.imwrite(path, planes, photometric="minisblack", planarconfig="contig")
    image = load_image(path, masses=["12C", "16O", "12C14N"])
    np.testing.assert_array_equal(image.counts, 3 * counts)
    assert image.masses == ("12C", "16O", "12C14N")


def _imagej(path, counts, axes, labels=None, n_planes=1, **kwargs):
    """Write counts (y, x, mass) as an ImageJ hyperstack; plane k holds (k + 1) x counts."""
    stack = np.moveaxis(counts, 2, 0)
    if n_planes > 1:
        stack = np.stack([(k + 1) * stack for k in range(n_planes)])
    metadata = {"axes": axes}
    if labels is not None:
        metadata["Labels"] = labels * n_planes
    tifffile.imwrite(path, stack, imagej=True, metadata=metadata, **kwargs)


@pytest.mark.parametrize("shape", [(200, 320, 3), (3, 3, 3), (24, 16, 7)], ids=str)
@pytest.mark.parametrize("axes", ["CYX", "ZCYX", "TCYX"])
def test_imagej_hyperstacks(tmp_path, shape, axes):
    counts = encoded(*shape)
    n_planes = 1 if axes == "CYX" else 3
    path = tmp_path / "hyperstack.tif"
    _imagej(path, counts, axes, _names(shape[2]), n_planes)
    image = load_image(path)
    assert image.masses == tuple(_names(shape[2]))
    np.testing.assert_array_equal(image.counts, counts * sum(range(1, n_planes + 1)))


def test_imagej_without_labels_takes_names_from_masses(tmp_path):
    counts = encoded(20, 32, 3)
    path = tmp_path / "nolabels.tif"
    _imagej(path, counts, "ZCYX", n_planes=2)
    assert load_image(path).masses == ("mass 1", "mass 2", "mass 3")
    image = load_image(path, masses=["12C", "13C", "16O"])
    assert image.masses == ("12C", "13C", "16O")
    np.testing.assert_array_equal(image.counts, 3 * counts)


def test_imagej_plain_stack_has_one_slice_per_mass(tmp_path):
    counts = encoded(20, 32, 3)
    path = tmp_path / "stack.tif"
    _imagej(path, counts, "ZYX", ["12C", "13C", "SE"])
    image = load_image(path)
    assert image.masses == ("12C", "13C", "SE")
    np.testing.assert_array_equal(image.counts, counts)


@pytest.mark.parametrize("unit, factor", [("micron", 1.0), ("nm", 1e-3), ("\\u00B5m", 1.0), ("pixel", None)])
def test_imagej_pixel_size_from_unit_and_resolution(tmp_path, unit, factor):
    path = tmp_path / "unit.tif"
    tifffile.imwrite(
        path, np.ones((2, 8, 8), np.uint16), imagej=True, resolution=(1 / 78.125, 1 / 78.125),
        metadata={"axes": "CYX", "unit": unit},
    )
    size = load_image(path).pixel_size_um
    assert size is None if factor is None else size == pytest.approx(78.125 * factor)


@pytest.mark.parametrize("axes, n_planes", [("CYX", 1), ("ZCYX", 2), ("TCYX", 3)])
def test_ome_tiff_channel_names_and_planes(tmp_path, axes, n_planes):
    counts = encoded(200, 320, 3)
    stack = np.moveaxis(counts, 2, 0)
    if n_planes > 1:
        stack = np.stack([stack] * n_planes)
    path = tmp_path / "image.ome.tif"
    metadata = {"axes": axes, "Channel": {"Name": ["12C", "12C 14N", "SE"]}, "PhysicalSizeX": 0.05}
    tifffile.imwrite(path, stack, ome=True, metadata=metadata)
    image = load_image(path)
    assert image.masses == ("12C", "12C 14N", "SE")
    np.testing.assert_array_equal(image.counts, n_planes * counts)
    assert image.pixel_size_um == pytest.approx(0.05)


def test_ome_single_channel_with_planes(tmp_path):
    counts = encoded(12, 20, 1)[:, :, 0]
    path = tmp_path / "one.ome.tif"
    tifffile.imwrite(path, np.stack([counts, counts]), ome=True, metadata={"axes": "ZYX"})
    image = load_image(path, masses=["12C"])
    assert image.shape == (12, 20, 1) and image.masses == ("12C",)
    np.testing.assert_array_equal(image.channel("12C"), 2 * counts)


def test_two_dimensional_tiff_is_one_channel(tmp_path):
    counts = encoded(200, 320, 1)[:, :, 0]
    path = tmp_path / "single.tif"
    tifffile.imwrite(path, counts)
    image = load_image(path)
    assert image.shape == (200, 320, 1) and image.masses == ("mass 1",)
    np.testing.assert_array_equal(image.counts[:, :, 0], counts)


@pytest.mark.parametrize(
    "dtype", [np.uint8, np.uint16, np.uint32, np.int16, np.int32, np.float32, np.float64]
)
def test_all_count_dtypes_load_as_float64(tmp_path, dtype):
    counts = (np.arange(2 * 6 * 10) % 100).reshape(2, 6, 10).astype(dtype)
    path = tmp_path / "dtype.tif"
    tifffile.imwrite(path, counts, photometric="minisblack", metadata=None)
    image = load_image(path)
    assert image.counts.dtype == np.float64
    np.testing.assert_array_equal(image.counts, np.moveaxis(counts, 0, 2).astype(float))


@pytest.mark.parametrize("unit, expected", [("CENTIMETER", 0.1), ("INCH", None), ("NONE", None)])
def test_plain_tiff_pixel_size_only_from_centimetre_resolution(tmp_path, unit, expected):
    path = tmp_path / "resolution.tif"
    tifffile.imwrite(path, np.ones((8, 8), np.uint16), resolution=(1e5, 1e5), resolutionunit=unit)
    size = load_image(path).pixel_size_um
    assert size is None if expected is None else size == pytest.approx(expected)


# --- the masses argument -------------------------------------------------------------------------


def test_masses_select_named_channels_in_given_order(tmp_path):
    counts = encoded(8, 10, 3)
    path = tmp_path / "named.tif"
    _imagej(path, counts, "CYX", ["12C", "12C 14N", "SE"])
    image = load_image(path, masses=["SE", "12C14N"])
    assert image.masses == ("SE", "12C 14N")
    np.testing.assert_array_equal(image.counts, counts[:, :, [2, 1]])
    assert load_image(path, masses="12C").masses == ("12C",)


def test_unknown_mass_lists_available_names(tmp_path):
    path = tmp_path / "named.tif"
    _imagej(path, encoded(8, 10, 3), "CYX", ["12C", "12C 14N", "SE"])
    with pytest.raises(NanoSIMSError, match=r"named\.tif.*'13C'.*\['12C', '12C 14N', 'SE'\]"):
        load_image(path, masses=["12C", "13C"])


@pytest.mark.parametrize("masses", [["a", "b"], ["a", "b", "c", "d"]])
def test_wrong_number_of_names_for_unnamed_channels(tmp_path, masses):
    path = tmp_path / "unnamed.tif"
    _myx_pages(path, encoded(8, 10, 3))
    with pytest.raises(NanoSIMSError, match=r"unnamed\.tif: the file has 3 channel.*one name per channel"):
        load_image(path, masses=masses)


def test_empty_masses_list_is_an_error(tmp_path):
    path = tmp_path / "unnamed.tif"
    _myx_pages(path, encoded(8, 10, 3))
    with pytest.raises(NanoSIMSError, match=r"unnamed\.tif: masses is empty"):
        load_image(path, masses=[])


# --- save_image_tiff -----------------------------------------------------------------------------


def test_round_trip_whole_counts_as_uint16(tmp_path):
    counts = np.random.default_rng(0).poisson(300.0, (200, 320, 3)).astype(float)
    counts[0, 0, 0] = 65535
    image = NanoSIMSImage(counts, ("12C", "12C 14N", "56Fe 16O"), pixel_size_um=20 / 256)
    path = save_image_tiff(image, tmp_path / "round.tif")
    with tifffile.TiffFile(path) as tif:
        assert tif.is_imagej and tif.series[0].axes == "CYX" and tif.series[0].dtype == np.uint16
    loaded = load_image(path)
    np.testing.assert_array_equal(loaded.counts, counts)
    assert loaded.masses == image.masses
    assert loaded.pixel_size_um == pytest.approx(20 / 256, rel=1e-9)
    assert loaded.path == path


@pytest.mark.parametrize("special", [0.5, 70000.0])  # a fraction, a whole count above 16 bits
def test_round_trip_other_counts_as_float32(tmp_path, special):
    counts = np.full((6, 9, 2), 3.0)
    counts[2, 3, 1] = special
    path = save_image_tiff(NanoSIMSImage(counts, ("a", "b")), tmp_path / "float.tiff")
    with tifffile.TiffFile(path) as tif:
        assert tif.series[0].dtype == np.float32
    loaded = load_image(path)
    np.testing.assert_array_equal(loaded.counts, counts)
    assert loaded.pixel_size_um is None


def test_save_refuses_negative_values_bad_ending_and_missing_folder(tmp_path):
    image = NanoSIMSImage(np.ones((4, 4, 2)), ("a", "b"))
    with pytest.raises(NanoSIMSError, match=r"out\.png.*\.tif"):
        save_image_tiff(image, tmp_path / "out.png")
    with pytest.raises(NanoSIMSError, match="does not exist"):
        save_image_tiff(image, tmp_path / "missing" / "out.tif")
    with pytest.raises(NanoSIMSError, match="negative"):
        save_image_tiff(NanoSIMSImage(-np.ones((4, 4, 2)), ("a", "b")), tmp_path / "neg.tif")
    with pytest.raises(NanoSIMSError, match="NanoSIMSImage"):
        save_image_tiff(np.ones((4, 4, 2)), tmp_path / "array.tif")
    with pytest.raises(NanoSIMSError, match="pixel_size_um=0.0; give a positive size"):
        save_image_tiff(NanoSIMSImage(np.ones((4, 4, 2)), ("a", "b"), pixel_size_um=0.0), tmp_path / "px.tif")


def test_both_writers_store_the_pixel_size_as_imagej_reads_it(tmp_path):
    """ImageJ turns the unit "um" into µm and reads XResolution as pixels per that unit (with the
    TIFF resolution unit "none"); the counts and the label writer must agree on it."""
    image = NanoSIMSImage(np.ones((4, 6, 2)), ("12C", "16O"), pixel_size_um=0.05)
    save_image_tiff(image, tmp_path / "counts.tif")
    write_label_tiff(np.zeros((4, 6), int), tmp_path / "labels.tif", pixel_size_um=0.05)
    for name in ("counts.tif", "labels.tif"):
        with tifffile.TiffFile(tmp_path / name) as tif:
            assert tif.imagej_metadata["unit"] == "um"
            page = tif.pages[0]
            assert page.resolutionunit == tifffile.RESUNIT.NONE
            numerator, denominator = page.tags["XResolution"].value
            assert numerator / denominator == pytest.approx(20.0)
        assert load_image(tmp_path / name).pixel_size_um == pytest.approx(0.05)


def test_a_failed_write_leaves_the_old_file_and_no_partial_file(tmp_path):
    path = write_imagej(tmp_path / "a.tif", np.zeros((2, 3), np.uint8), "YX")
    before = path.read_bytes()
    with pytest.raises(ValueError):
        write_imagej(path, np.zeros((2, 3), np.complex128), "YX")  # ImageJ cannot store complex values
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.tif"]
