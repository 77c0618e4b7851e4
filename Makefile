# The docker-compose stack (needs a container engine), the demo and the tests.
COMPOSE := docker-compose -f docker-compose.yml

.PHONY: local cloud down logs local-cluster demo test

local: ## Qdrant, exporter, Prometheus and Grafana
	$(COMPOSE) --profile local up -d --build
	@echo "Grafana http://localhost:3000 (dashboard 'Qdrant (qdrant-exporter)'), Prometheus http://localhost:9090, exporter http://localhost:9999/metrics"

cloud: ## exporter, Prometheus and Grafana against QDRANT_URL / QDRANT_API_KEY in cloud.env
	@test -f cloud.env || { echo "copy cloud.env.example to cloud.env and fill it in"; exit 2; }
	$(COMPOSE) --env-file cloud.env --profile cloud up -d --build
	@echo "Grafana http://localhost:3000, Prometheus http://localhost:9090, exporter http://localhost:9999/metrics"

down: ## stop and remove the stack (both modes)
	$(COMPOSE) --profile local --profile cloud down

logs: ## follow the stack's logs
	$(COMPOSE) --profile local --profile cloud logs -f

local-cluster: ## from this checkout to kind/k3d/minikube: image, official Qdrant chart with the sidecar, this chart, and Prometheus + Grafana
	scripts/local-cluster.sh --monitoring

demo: ## the exporter against the bundled mock Qdrant, no containers
	scripts/demo.sh

test: ## every test
	scripts/test.sh
