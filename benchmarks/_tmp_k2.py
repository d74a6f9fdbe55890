import sys, warnings
import numpy as np, pandas as pd
from benchmarks.bench_enrichment import unlabelled_realistic, TRUE, RATIOS
from nanosims_helpers import cluster_image
from nanosims_helpers.isotopes import isotope_table
warnings.simplefilter("ignore")
k = int(sys.argv[2])
rows = []
for seed in range(int(sys.argv[1])):
    im = unlabelled_realistic(seed)
    r = cluster_image(im, k, ratios=RATIOS)
    t = isotope_table(im, r, RATIOS).assign(image=seed)
    rows.append(t)
t = pd.concat(rows)
t["within"] = np.abs(t["ratio_of_sums"] - t["ratio"].map(TRUE)) <= 2 * t["ratio_se"]
t["z2"] = (t["ratio_of_sums"] - t["ratio"].map(TRUE)) / t["ratio_se"]
print(t.groupby("ratio")["within"].mean(), t.groupby("ratio")["z2"].agg(["mean", "std"]))
print((t["p_value"] < 0.05).mean(), t.groupby("image")["enriched"].any().mean())
