# CUDA part of the fp6llm custom-op library: the FP6 x FP16 Tensor Core GEMM (fp6_gemm.cu) and the
# CUDAExecutionProvider kernel of fp6llm.Fp6Linear (fp6_linear_cuda_op.cc). Included by CustomOps/CMakeLists.txt
# only when CMake finds a CUDA compiler. Targets sm_80 (portable mma.sync path) and sm_90a (wgmma, TMA, clusters).
# -DFP6_CUDA_TOOLS=ON also builds the correctness test and the benchmark (CustomOps/cuda/run_gpu.sh does).
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)

set(FP6_CUDA_DIR "${CMAKE_CURRENT_LIST_DIR}")
# The toolkit's own folders, as the CUDA compiler reports them (FindCUDAToolkit is not used: CMake 3.25's breaks on
# toolkits without nvToolsExt, i.e. CUDA 12.x/13).
get_filename_component(FP6_CUDA_BIN_DIR "${CMAKE_CUDA_COMPILER}" DIRECTORY)
set(FP6_CUDA_LIB_HINTS ${CMAKE_CUDA_IMPLICIT_LINK_DIRECTORIES} "${FP6_CUDA_BIN_DIR}/../lib64" "${FP6_CUDA_BIN_DIR}/../lib")
find_library(FP6_CUDART_STATIC NAMES cudart_static HINTS ${FP6_CUDA_LIB_HINTS} REQUIRED)
# Explicit -gencode flags: wgmma and setmaxnreg need the "a" variant, spelled this way for every nvcc version.
set(FP6_CUDA_GENCODE
    "-gencode=arch=compute_80,code=sm_80"
    "-gencode=arch=compute_90a,code=sm_90a")

add_library(fp6_cuda_gemm STATIC "${FP6_CUDA_DIR}/fp6_gemm.cu")
set_target_properties(fp6_cuda_gemm PROPERTIES
  CUDA_ARCHITECTURES OFF
  POSITION_INDEPENDENT_CODE ON
  CUDA_VISIBILITY_PRESET hidden)
target_compile_options(fp6_cuda_gemm PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:${FP6_CUDA_GENCODE} -O3>)
target_include_directories(fp6_cuda_gemm PUBLIC "${FP6_CUDA_DIR}" ${CMAKE_CUDA_TOOLKIT_INCLUDE_DIRECTORIES})
# The static runtime: the library loads without looking for libcudart; streams from ORT's runtime are driver
# handles and work across runtime instances.
target_link_libraries(fp6_cuda_gemm PUBLIC "${FP6_CUDART_STATIC}" ${CMAKE_DL_LIBS} pthread rt)

target_sources(fp6_customops PRIVATE "${FP6_CUDA_DIR}/fp6_linear_cuda_op.cc")
target_include_directories(fp6_customops PRIVATE "${FP6_CUDA_DIR}")
target_compile_definitions(fp6_customops PRIVATE FP6_HAVE_CUDA=1)
target_link_libraries(fp6_customops PRIVATE fp6_cuda_gemm)

option(FP6_CUDA_TOOLS "Build the CUDA GEMM test and benchmark programs" OFF)
if(FP6_CUDA_TOOLS)
  add_executable(fp6_gemm_test "${FP6_CUDA_DIR}/tools/fp6_gemm_test.cu")
  add_executable(fp6_gemm_bench "${FP6_CUDA_DIR}/tools/fp6_gemm_bench.cu")
  foreach(tool fp6_gemm_test fp6_gemm_bench)
    set_target_properties(${tool} PROPERTIES CUDA_ARCHITECTURES OFF)
    target_compile_options(${tool} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:${FP6_CUDA_GENCODE} -O3>)
    target_include_directories(${tool} PRIVATE include "${FP6_CUDA_DIR}/tools")
    target_link_libraries(${tool} PRIVATE fp6_cuda_gemm fp6_core)
  endforeach()
  find_library(FP6_CUBLAS NAMES cublas HINTS ${FP6_CUDA_LIB_HINTS} REQUIRED)
  target_link_libraries(fp6_gemm_bench PRIVATE "${FP6_CUBLAS}")
endif()
