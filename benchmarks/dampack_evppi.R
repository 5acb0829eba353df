# dampack::calc_evppi(type = "gam", k = -1) re-stated with mgcv (dampack's metamodel.R,
# calculate_outcome.R): nmb_loss_voi per strategy, one gam per strategy, mean row max.
suppressMessages(library(mgcv))
a <- commandArgs(TRUE); n <- as.integer(a[1])
psa <- read.csv("/work/shared/peers/dampack/example_psa.csv")
psa <- psa[psa$draw < n, ]
arms <- unique(psa$arm)
cost <- sapply(arms, function(s) psa$cost[psa$arm == s])
eff <- sapply(arms, function(s) psa$qaly[psa$arm == s])
par <- psa[psa$arm == arms[1], ]
groups <- list(pFailChemo = "pFailChemo", muDieCancer = "muDieCancer",
               costs = c("cChemo", "cRadio", "cSurg"))
out <- data.frame()
t0 <- Sys.time()
for (g in names(groups)) for (wtp in c(31000, 61000, 101000)) {
  p <- groups[[g]]
  nb <- eff * wtp - cost
  best <- which.max(colMeans(nb))
  y <- nb - nb[, best]
  f <- if (length(p) == 1) paste0("s(", p, ", k=-1)") else
    paste0(paste0("s(", p, ", k=-1)", collapse = " + "), " + ti(", paste(p, collapse = ", "), ", k = NA)")
  fit <- sapply(seq_along(arms), function(j) {
    dat <- data.frame(y = y[, j], par[p]); gam(as.formula(paste("y ~", f)), data = dat)$fitted.values })
  out <- rbind(out, data.frame(group = g, WTP = wtp, EVPPI = mean(apply(fit, 1, max))))
}
cat(sprintf("# %d draws, %.1f s\n", n, as.numeric(Sys.time() - t0, units = "secs")))
write.csv(out, stdout(), row.names = FALSE)
