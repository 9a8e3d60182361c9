# Real labelled data (SemEval ABSA XML, read from paths given at run time, never committed).
#   make eval-real XML="test.xml [train.xml]" [TRAIN=train.xml] [KEEP=1] [MALL_ID=1] [PRODUCT_OF=auto] [ARGS="--set k=v"]
.PHONY: eval-real

eval-real: setup ## the real pipeline (local source → dataset → analyzer_batch → spvp_batch) on SemEval XML, scored vs baselines
	@test -n "$(XML)" || { echo 'usage: make eval-real XML="a.xml b.xml" [TRAIN=train.xml] [KEEP=1]'; exit 2; }
	$(PY) -m trend_dev.eval_real --xml $(XML) $(if $(TRAIN),--train $(TRAIN)) $(if $(KEEP),--keep) \
		$(if $(MALL_ID),--mall-id $(MALL_ID)) $(if $(PRODUCT_OF),--product-of '$(PRODUCT_OF)') $(if $(N),-n $(N)) $(ARGS)
