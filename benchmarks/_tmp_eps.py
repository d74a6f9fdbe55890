import sys, warnings
import numpy as np
from benchmarks.bench_enrichment import _split_with, _cells_cluster, CELLS, RATIOS
from nanosims_helpers import cluster_image, NanoSIMSImage
from nanosims_helpers.isotopes import isotope_table
from nanosims_helpers.realistic import simulate_realistic_image
warnings.simplefilter("ignore")
enrichment = float(sys.argv[1]); n = int(sys.argv[2])
EPS = (0.5, 0.6, 0.7, 0.8)
res = {e: [] for e in EPS}
for seed in range(n):
    s = simulate_realistic_image((256, 256), enrichment=enrichment, random_state=300 + seed)
    image = NanoSIMSImage(s.image.counts, s.image.masses)
    cells = s.truth == CELLS
    for eps in EPS:
        split = _split_with(image, eps, seed)
        labels = cluster_image(split.selection, 6).labels.copy()
        t = isotope_table(image, labels, RATIOS, split=split)
        c = _cells_cluster(labels, s.truth)
        f1 = 2*np.sum((labels==c)&cells)/(np.sum(labels==c)+cells.sum())
        r13 = t[(t.cluster==c)&(t.ratio=="13C/12C")].iloc[0]; r15 = t[(t.cluster==c)&(t.ratio!="13C/12C")].iloc[0]
        res[eps].append((f1, r13.z, r15.z, r13.enriched, r15.enriched))
for eps, v in res.items():
    v = np.array(v, dtype=float)
    print(f"enrich {enrichment} eps {eps}: F1 med {np.median(v[:,0]):.2f} found(F1>0.5) {np.mean(v[:,0]>0.5):.2f} z13 med {np.median(v[:,1]):.1f} z15 med {np.median(v[:,2]):.1f} enriched13 {v[:,3].mean():.2f} enriched15 {v[:,4].mean():.2f}", flush=True)
