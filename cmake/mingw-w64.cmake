# Cross-compiles cordon for 64-bit Windows with Debian's mingw-w64 (posix thread model, so
# std::thread/std::mutex exist) and runs the results under Wine through the emulator wrapper.
# Usage: cmake -S . -B build-win -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64.cmake
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CORDON_MINGW_TRIPLE x86_64-w64-mingw32)

set(CMAKE_C_COMPILER ${CORDON_MINGW_TRIPLE}-gcc-posix)
set(CMAKE_CXX_COMPILER ${CORDON_MINGW_TRIPLE}-g++-posix)
set(CMAKE_RC_COMPILER ${CORDON_MINGW_TRIPLE}-windres)

# Never let host (glibc) headers or Linux libraries leak into the Windows build.
set(CMAKE_FIND_ROOT_PATH /usr/${CORDON_MINGW_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Static runtime: the .exe files need no libstdc++/libgcc/winpthread DLLs next to them.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
# Windows 10 1809 API level (ConPTY); keep <windows.h> from pulling in winsock 1 (asio needs winsock2) and
# from defining min/max macros.
set(CMAKE_C_FLAGS_INIT
  "-D_WIN32_WINNT=0x0A00 -DWINVER=0x0A00 -DNTDDI_VERSION=0x0A000006 -DWIN32_LEAN_AND_MEAN -DNOMINMAX")
# -Wno-restrict: GCC 12 reports impossible memcpy overlaps inside std::string concatenation at
# -O2 (GCC bug 105329); with -Werror that breaks correct code.
set(CMAKE_CXX_FLAGS_INIT "${CMAKE_C_FLAGS_INIT} -Wno-restrict")

set(CMAKE_CROSSCOMPILING_EMULATOR ${CMAKE_CURRENT_LIST_DIR}/../tests/win/wine-run.sh)

# Header-only dependencies. Debian ships them under /usr/include, which must not be on the
# mingw include path (it is full of glibc headers). We stage symlinks to just those libraries
# and write tiny package configs so the top-level find_package() calls resolve to INTERFACE
# targets. GoogleTest is built from source for the target.
if(CMAKE_BINARY_DIR AND NOT CMAKE_BINARY_DIR MATCHES "CMakeFiles/CMakeScratch|CMakeTmp")
  set(_stage ${CMAKE_BINARY_DIR}/mingw-deps)
  set(_inc ${_stage}/include)
  file(MAKE_DIRECTORY ${_inc})
  foreach(_dep nlohmann fmt spdlog asio asio.hpp CLI toml++)
    if(EXISTS /usr/include/${_dep} AND NOT EXISTS ${_inc}/${_dep})
      file(CREATE_LINK /usr/include/${_dep} ${_inc}/${_dep} SYMBOLIC)
    endif()
  endforeach()

  function(_cordon_mingw_package name version body)
    file(WRITE ${_stage}/${name}/${name}Config.cmake "${body}\n")
    file(WRITE ${_stage}/${name}/${name}ConfigVersion.cmake
      "set(PACKAGE_VERSION ${version})\nset(PACKAGE_VERSION_COMPATIBLE TRUE)\n")
    set(${name}_DIR ${_stage}/${name} CACHE PATH "mingw shim for ${name}" FORCE)
  endfunction()

  set(_iface "if(NOT TARGET @T@)\n  add_library(@T@ INTERFACE IMPORTED)\n  set_target_properties(@T@ PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${_inc})\nendif()")
  string(REPLACE "@T@" nlohmann_json::nlohmann_json _json "${_iface}")
  _cordon_mingw_package(nlohmann_json 3.11.2 "${_json}")
  string(REPLACE "@T@" fmt::fmt _fmt "${_iface}")
  _cordon_mingw_package(fmt 9.1.0 "${_fmt}\nset_property(TARGET fmt::fmt APPEND PROPERTY INTERFACE_COMPILE_DEFINITIONS FMT_HEADER_ONLY=1)")
  string(REPLACE "@T@" spdlog::spdlog _spd "${_iface}")
  _cordon_mingw_package(spdlog 1.10.0 "${_spd}\nset_property(TARGET spdlog::spdlog APPEND PROPERTY INTERFACE_COMPILE_DEFINITIONS FMT_HEADER_ONLY=1 SPDLOG_FMT_EXTERNAL)\nset_property(TARGET spdlog::spdlog APPEND PROPERTY INTERFACE_LINK_LIBRARIES ws2_32 mswsock)")
  string(REPLACE "@T@" CLI11::CLI11 _cli "${_iface}")
  _cordon_mingw_package(CLI11 2.1.2 "${_cli}")
  string(REPLACE "@T@" tomlplusplus::tomlplusplus _toml "${_iface}")
  _cordon_mingw_package(tomlplusplus 3.3.0 "${_toml}\nset_property(TARGET tomlplusplus::tomlplusplus APPEND PROPERTY INTERFACE_COMPILE_DEFINITIONS TOML_HEADER_ONLY=1)")
  _cordon_mingw_package(GTest 1.12.1 "if(NOT TARGET GTest::gtest)
  set(gtest_force_shared_crt ON CACHE BOOL \"\" FORCE)
  set(INSTALL_GTEST OFF CACHE BOOL \"\" FORCE)
  add_subdirectory(/usr/src/googletest \${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL)
endif()
set(GTest_FOUND TRUE)")
endif()
