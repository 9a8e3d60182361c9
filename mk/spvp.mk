# SPVP: viewpoint files and the mapping evaluation.
#   make load-viewpoints [VIEWPOINTS=include/viewpoints/synthetic.yaml] [ASSIGN_WISHLIST=id]
#   make eval-spvp [XML=test.xml [TRAIN=train.xml] [N=12]] [SPVP_CONFIG=cfg.json] [EMBEDDING_CACHE=file.pkl]
VIEWPOINTS ?= include/viewpoints/synthetic.yaml
N ?= 12

.PHONY: eval-spvp load-viewpoints

eval-spvp: setup ## SPVP mapping quality (micro/macro F1) and sentences/s; synthetic truth without XML
	$(PY) -m trend_dev.spvp_eval $(if $(XML),--xml $(XML)) $(if $(TRAIN),--train $(TRAIN)) -n $(N) \
		$(if $(SPVP_CONFIG),--config $(SPVP_CONFIG)) $(if $(EMBEDDING_CACHE),--embedding-cache $(EMBEDDING_CACHE))

load-viewpoints: setup ## create/update a viewpoint category from a YAML/JSON file; ASSIGN_WISHLIST=id gives it to a wishlist
	$(PY) -m trend.spvp.load_viewpoints $(VIEWPOINTS) $(if $(ASSIGN_WISHLIST),--assign-wishlist $(ASSIGN_WISHLIST))
