# ctest client.install_package: installs the build into a scratch prefix, then builds and runs
# examples/client against that prefix alone, once through the CMake package (find_package) and
# once through pkg-config. In a sanitizer build the package itself asks for the sanitizer
# runtime at link time. Run with cmake -P; see tests/client/CMakeLists.txt.
foreach(var BUILD_DIR EXAMPLE_DIR WORK_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "install_package.cmake: ${var} not set")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    list(JOIN ARGV " " command)
    message(FATAL_ERROR "failed (${code}): ${command}\n${out}\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

# The library may not be built yet when only some targets were; this is a no-op otherwise.
run(${CMAKE_COMMAND} --build ${BUILD_DIR} --target fulcrum_package)
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# The library directory depends on GNUInstallDirs (lib or lib/<multiarch>): match path endings.
file(GLOB_RECURSE installed RELATIVE ${prefix} ${prefix}/*)
foreach(expected include/fulcrum/client.h include/fulcrum/client/connector.h
                 include/fulcrum/core/cluster.h cmake/Fulcrum/FulcrumConfig.cmake
                 cmake/Fulcrum/FulcrumConfigVersion.cmake cmake/Fulcrum/FulcrumTargets.cmake
                 pkgconfig/fulcrum.pc libfulcrum.a)
  set(matches ${installed})
  list(FILTER matches INCLUDE REGEX "(^|/)${expected}$")
  if(NOT matches)
    message(FATAL_ERROR "not installed: ${expected}\ninstalled: ${installed}")
  endif()
endforeach()

# 1. CMake package.
set(configure_args -S ${EXAMPLE_DIR} -B ${WORK_DIR}/cmake-build -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
if(BUILD_TYPE)
  list(APPEND configure_args -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
endif()
if(CXX_LAUNCHER)
  list(APPEND configure_args -DCMAKE_CXX_COMPILER_LAUNCHER=${CXX_LAUNCHER})
endif()
run(${CMAKE_COMMAND} ${configure_args})
# It must have found the package in the scratch prefix, not anywhere else.
file(STRINGS ${WORK_DIR}/cmake-build/CMakeCache.txt fulcrum_dir REGEX "^Fulcrum_DIR:")
string(FIND "${fulcrum_dir}" "${prefix}/" at)
if(NOT at GREATER -1)
  message(FATAL_ERROR "find_package(Fulcrum) did not use ${prefix}: ${fulcrum_dir}")
endif()
run(${CMAKE_COMMAND} --build ${WORK_DIR}/cmake-build)
run(${WORK_DIR}/cmake-build/fulcrum-client-example)
message(STATUS "CMake package example:\n${run_output}")
string(FIND "${run_output}" "connected to 127.0.0.1:" connected)
if(connected EQUAL -1)
  message(FATAL_ERROR "the example did not connect:\n${run_output}")
endif()

# 2. pkg-config: compile and link the example with the flags the .pc file gives.
find_program(PKG_CONFIG_EXECUTABLE NAMES pkg-config pkgconf)
if(NOT PKG_CONFIG_EXECUTABLE)
  message(FATAL_ERROR "pkg-config not found (scripts/install-deps.sh installs it)")
endif()
file(GLOB_RECURSE pc_file ${prefix}/*/fulcrum.pc)
get_filename_component(pc_dir "${pc_file}" DIRECTORY)
set(ENV{PKG_CONFIG_PATH} ${pc_dir})
run(${PKG_CONFIG_EXECUTABLE} --cflags fulcrum)
separate_arguments(cflags UNIX_COMMAND "${run_output}")
run(${PKG_CONFIG_EXECUTABLE} --libs fulcrum)
separate_arguments(libs UNIX_COMMAND "${run_output}")
run(${CXX_COMPILER} -std=c++20 ${cflags} ${EXAMPLE_DIR}/main.cc -o ${WORK_DIR}/pkg-config-example
    ${libs})
run(${WORK_DIR}/pkg-config-example)
message(STATUS "pkg-config example:\n${run_output}")
