# SPDX-License-Identifier: BSD-2-Clause
# Sourced by the scripts: Open MPI as root on a small box (containers, CI), a predictable python.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
# Open MPI looks for InfiniBand/UCX transports first; on a workstation, shared memory is all there is
export OMPI_MCA_btl="self,vader" OMPI_MCA_pml="ob1"
PYTHON=/usr/bin/python3
