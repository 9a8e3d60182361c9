#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian machine: system packages, then .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
dpkg -s libmariadb-dev >/dev/null 2>&1 || need_apt+=(libmariadb-dev)
dpkg -s pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
[ -f /usr/share/java/mariadb-java-client.jar ] || need_apt+=(libmariadb-java)
command -v java >/dev/null 2>&1 || need_apt+=(default-jdk-headless)
# native BLAS/LAPACK for Spark ML (netlib dlopens libblas.so.3 / liblapack.so.3, else pure Java)
ldconfig -p | grep -q "libblas.so.3 " || need_apt+=(libopenblas0)
command -v docker-compose >/dev/null 2>&1 || need_apt+=(docker-compose)
# headless browser for the UI plugin's browser test, screenshots and page-load bench
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# pip here warns once per package about local index folders that do not exist; keep real output only.
pip_quiet() { .venv/bin/pip "$@" 2>&1 | { grep -v "^WARNING: Location '" || true; }; }

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip_quiet install -q --upgrade pip
# torch first, pinned: it installs the local CPU build instead of a multi-GB CUDA one.
pip_quiet install -q "torch==2.13.0"
pip_quiet install -q -r requirements.txt
# The Spark provider depends on pyspark-client, which overwrites part of pyspark; restore pyspark.
pip_quiet install -q --force-reinstall --no-deps "pyspark==4.3.0"
# The project itself, editable: `trend` (product) and `trend_dev` (demo, eval, bench helpers).
pip_quiet install -q --no-deps --no-build-isolation -e .
.venv/bin/python -c "import pyspark, airflow, MySQLdb, trend, trend_dev; assert pyspark.__version__ == '4.3.0', pyspark.__version__"
touch .venv/.installed
echo "setup: done ($(.venv/bin/python --version), pyspark $(.venv/bin/python -c 'import pyspark; print(pyspark.__version__)'))"
