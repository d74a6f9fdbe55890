"""load_image on real Cameca .im files: counts, names, pixel size, dead time, frame alignment."""

import numpy as np
import pytest

from nanosims_helpers.errors import NanoSIMSError
from nanosims_helpers.io.cameca import correct_dead_time
from nanosims_helpers.io.loading import _shift, estimate_shift, load_image

EXPECTED = {
    "image_sun.im": ((256, 256, 6), ("12C", "16O", "18O", "12C 14N", "12C 15N", "SE")),
    "openmims_051117.im": ((256, 256, 4), ("12C", "13C", "12C 14N", "12C 15N")),
}


@pytest.fixture(scope="module")
def raw(cameca_files):
    """{file name: (path, sims object)} read with sims directly, independently of the kit."""
    import sims

    return {path.name: (path, sims.SIMS(str(path))) for path in cameca_files}


def _get(raw, name):
    if name not in raw:
        pytest.skip(f"{name} is not in the folder of real .im files")
    return raw[name]


def _frames(simsobj):
    """(frame, y, x, species) float counts of a sims object."""
    return np.moveaxis(np.asarray(simsobj.data, dtype=float), 0, -1)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_files_load_with_species_and_summed_frames(raw, name):
    path, simsobj = _get(raw, name)
    image = load_image(path)
    shape, species = EXPECTED[name]
    assert image.shape == shape
    assert image.masses == species
    np.testing.assert_array_equal(image.counts, _frames(simsobj).sum(axis=0))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_pixel_size_from_raster(raw, name):
    path, simsobj = _get(raw, name)
    size = load_image(path).pixel_size_um
    # The primary-beam section records the raster again, in micrometres.
    assert size > 0
    assert size == pytest.approx(simsobj.header["PrimaryBeam"]["raster"] / 256, rel=1e-3)


def test_masses_select_species(raw):
    path, simsobj = _get(raw, "openmims_051117.im")
    image = load_image(path, masses=["12C15N", "12C"])
    assert image.masses == ("12C 15N", "12C")
    np.testing.assert_array_equal(image.counts, _frames(simsobj).sum(axis=0)[:, :, [3, 0]])
    with pytest.raises(NanoSIMSError, match=r"openmims_051117\.im: no mass \['18O'\].*'13C'"):
        load_image(path, masses=["18O"])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_dead_time_correction_raises_counts_most_where_counts_are_high(raw, name):
    path, simsobj = _get(raw, name)
    plain, corrected = load_image(path), load_image(path, dead_time_correction=True)
    assert np.all(corrected.counts >= plain.counts)
    assert corrected.counts.sum() > plain.counts.sum()
    low = plain.counts <= 10  # at most 10 counts: the detector is idle nearly all the time
    np.testing.assert_allclose(corrected.counts[low], plain.counts[low], rtol=1e-4)
    np.testing.assert_array_equal(corrected.counts[plain.counts == 0], 0)


def test_dead_time_correction_matches_header_values(raw):
    path, simsobj = _get(raw, "image_sun.im")
    header = simsobj.header
    dwell = header["BFields"][0]["time per pixel"]
    # dwell time is in seconds: one frame of 256 x 256 pixels takes the frame count time
    assert dwell * 256 * 256 == pytest.approx(header["MassTable"]["12C"]["frame count time"])
    dead_time = header["Detectors"]["Detector 1"]["em deadtime"] * 1e-9  # the 12C detector, ns
    frames = _frames(simsobj)[:, :, :, 0]
    expected = (frames / (1 - frames * dead_time / dwell)).sum(axis=0)
    corrected = load_image(path, masses=["12C", "SE"], dead_time_correction=True)
    np.testing.assert_allclose(corrected.channel("12C"), expected, rtol=1e-12)
    # secondary electrons are not counted by an electron multiplier with a dead time
    np.testing.assert_array_equal(corrected.channel("SE"), _frames(simsobj)[..., 5].sum(axis=0))


def test_dead_time_saturation_is_an_error():
    with pytest.raises(NanoSIMSError, match=r"sample\.im: .*faster than the detector"):
        correct_dead_time(np.array([10.0, 3e4]), 50e-9, 1e-3, "sample.im")


def _real_frame(raw):
    """Total counts of the first frame of the first real file (a real, noisy scene)."""
    path, simsobj = next(iter(raw.values()))
    return _frames(simsobj)[0].sum(axis=2)


@pytest.mark.parametrize("shift", [(0, 0), (3, -4), (-7, 11), (20, 1)])
def test_estimate_shift_recovers_a_known_drift(raw, shift):
    scene = _real_frame(raw)
    dy, dx = shift
    window = (slice(40, 216), slice(40, 216))
    reference = scene[window]
    # the stage moved by (dy, dx): what was at [y, x] is now seen at [y + dy, x + dx]
    moving = scene[40 - dy:216 - dy, 40 - dx:216 - dx]
    assert estimate_shift(reference, moving) == (-dy, -dx)
    assert estimate_shift(reference, reference) == (0, 0)


def test_estimate_shift_checks_its_input():
    with pytest.raises(NanoSIMSError, match="moving: shape"):
        estimate_shift(np.ones((8, 8)), np.ones((8, 9)))
    with pytest.raises(NanoSIMSError, match="reference: expected a 2-D image"):
        estimate_shift(np.ones((8, 8, 2)), np.ones((8, 8)))


def _drifted_copy(raw, tmp_path, shift):
    """A copy of image_sun.im whose second frame is its first frame moved by ``shift``."""
    path, simsobj = _get(raw, "image_sun.im")
    header_size = simsobj.header["header size"]
    content = path.read_bytes()
    image = simsobj.header["Image"]
    shape = (image["planes"], image["masses"], image["height"], image["width"])
    data = np.frombuffer(content[header_size:], dtype=">u2").reshape(shape).copy()
    moved = _shift(np.moveaxis(data[0], 0, -1), shift)  # (y, x, mass), zeros come in
    data[1] = np.moveaxis(moved, -1, 0)
    copy = tmp_path / "drifted.im"
    copy.write_bytes(content[:header_size] + data.tobytes())
    return copy, np.moveaxis(data[0], 0, -1).astype(float), moved.astype(float)


def test_align_planes_undoes_a_drift_between_frames(raw, tmp_path):
    path, first, second = _drifted_copy(raw, tmp_path, (3, -4))
    plain = load_image(path)
    np.testing.assert_array_equal(plain.counts, first + second)
    aligned = load_image(path, align_planes=True)
    inside = (slice(0, 253), slice(4, 256))  # the part of the first frame the second still sees
    np.testing.assert_array_equal(aligned.counts[inside], 2 * first[inside])
    assert aligned.counts.sum() == pytest.approx(plain.counts.sum())  # nothing is lost twice


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_align_planes_keeps_totals_of_real_files(raw, name):
    path, _ = _get(raw, name)
    plain, aligned = load_image(path), load_image(path, align_planes=True)
    assert aligned.shape == plain.shape and aligned.masses == plain.masses
    # only an edge strip as wide as the drift can lose counts
    edge = plain.counts.copy()
    edge[3:-3, 3:-3] = 0
    assert plain.counts.sum() - edge.sum() <= aligned.counts.sum() <= plain.counts.sum()


@pytest.mark.parametrize("damage", ["half", "garbage header"])
def test_damaged_copy_of_a_real_file(raw, tmp_path, damage):
    path, _ = next(iter(raw.values()))
    content = bytearray(path.read_bytes())
    if damage == "half":
        content = content[: len(content) // 2]
    else:
        content[:400] = np.random.default_rng(0).integers(0, 256, 400, dtype=np.uint8).tobytes()
    copy = tmp_path / "damaged.im"
    copy.write_bytes(bytes(content))
    with pytest.raises(NanoSIMSError, match=r"damaged\.im: cannot be read as a Cameca \.im image"):
        load_image(copy)


def test_keep_planes_holds_every_plane_and_sums_to_the_counts(raw):
    path, simsobj = _get(raw, "image_sun.im")
    summed = load_image(path)
    kept = load_image(path, keep_planes=True)
    assert kept.n_planes == 2
    np.testing.assert_array_equal(kept.planes, _frames(simsobj))
    assert kept.planes.shape == (kept.n_planes, *summed.shape)
    np.testing.assert_array_equal(kept.planes.sum(axis=0), summed.counts)
    # the planes differ from each other (not one plane repeated)
    assert not np.array_equal(kept.planes[0], kept.planes[1])
