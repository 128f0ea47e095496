# An overlay port of this repository (vcpkg install wsload --overlay-ports=<repo>/ports): the
# sources are the tree the port sits in. A registry port would take them from a release with
# vcpkg_from_github(OUT_SOURCE_PATH SOURCE_PATH REPO ... REF v${VERSION} SHA512 ...) instead.
# ctest's package_vcpkg_layout runs the configure options and the install below with plain
# CMake and checks the layout; it reads them from this file, so keep one option per line.
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)

# Header-only (no prebuilt runtime: scenarios build it with the consumer's triplet's flags): one
# configuration is enough, and nothing goes into debug/.
set(VCPKG_BUILD_TYPE release)

vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        -DWSLOAD_BUILD_EXAMPLES=OFF
        -DWSLOAD_BUILD_TESTS=OFF
        -DWSLOAD_BUILD_BENCH=OFF
        -DWSLOAD_BUILD_TOOLS=OFF
        -DWSLOAD_INSTALL_RUNTIME=OFF
        -DWSLOAD_INSTALL_CMAKEDIR=share/wsload
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(CONFIG_PATH share/wsload)

file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/COPYRIGHT")
