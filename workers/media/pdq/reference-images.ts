// Meta's PDQ reference images (../shared/data/pdq/images, BSD ThreatExchange licence, tests only:
// never imported by Worker code), inlined as bytes because workerd has no file system.
// Keys are the paths the reference CSV uses (relative to images/).

import bridge_mods_aaa_orig_jpg from '../../../../shared/data/pdq/images/bridge-mods/aaa-orig.jpg?bytes'
import bridge_mods_blur_a_little_jpg from '../../../../shared/data/pdq/images/bridge-mods/blur-a-little.jpg?bytes'
import bridge_mods_blur_a_lot_jpg from '../../../../shared/data/pdq/images/bridge-mods/blur-a-lot.jpg?bytes'
import bridge_mods_high_contrast_jpg from '../../../../shared/data/pdq/images/bridge-mods/high-contrast.jpg?bytes'
import bridge_mods_high_saturation_jpg from '../../../../shared/data/pdq/images/bridge-mods/high-saturation.jpg?bytes'
import bridge_mods_sharpen_a_little_jpg from '../../../../shared/data/pdq/images/bridge-mods/sharpen-a-little.jpg?bytes'
import bridge_mods_sharpen_a_lot_jpg from '../../../../shared/data/pdq/images/bridge-mods/sharpen-a-lot.jpg?bytes'
import bridge_mods_shrink_a_little_jpg from '../../../../shared/data/pdq/images/bridge-mods/shrink-a-little.jpg?bytes'
import bridge_mods_shrink_a_lot_jpg from '../../../../shared/data/pdq/images/bridge-mods/shrink-a-lot.jpg?bytes'
import bridge_mods_square_128x128_jpg from '../../../../shared/data/pdq/images/bridge-mods/square-128x128.jpg?bytes'
import bridge_mods_square_256x256_jpg from '../../../../shared/data/pdq/images/bridge-mods/square-256x256.jpg?bytes'
import bridge_mods_square_512x512_jpg from '../../../../shared/data/pdq/images/bridge-mods/square-512x512.jpg?bytes'
import misc_images_c_png from '../../../../shared/data/pdq/images/misc-images/c.png?bytes'
import misc_images_modes_CMYK_jpg from '../../../../shared/data/pdq/images/misc-images/modes/CMYK.jpg?bytes'
import misc_images_modes_L_png from '../../../../shared/data/pdq/images/misc-images/modes/L.png?bytes'
import misc_images_modes_P_png from '../../../../shared/data/pdq/images/misc-images/modes/P.png?bytes'
import misc_images_modes_RGBA_png from '../../../../shared/data/pdq/images/misc-images/modes/RGBA.png?bytes'
import misc_images_small_jpg from '../../../../shared/data/pdq/images/misc-images/small.jpg?bytes'
import misc_images_wee_jpg from '../../../../shared/data/pdq/images/misc-images/wee.jpg?bytes'
import reg_test_input_dih_bridge_1_original_jpg from '../../../../shared/data/pdq/images/reg-test-input/dih/bridge-1-original.jpg?bytes'
import reg_test_input_dih_bridge_2_rotate_90_jpg from '../../../../shared/data/pdq/images/reg-test-input/dih/bridge-2-rotate-90.jpg?bytes'
import reg_test_input_dih_bridge_3_rotate_180_jpg from '../../../../shared/data/pdq/images/reg-test-input/dih/bridge-3-rotate-180.jpg?bytes'
import reg_test_input_dih_bridge_4_rotate_270_jpg from '../../../../shared/data/pdq/images/reg-test-input/dih/bridge-4-rotate-270.jpg?bytes'
import reg_test_input_dih_bridge_5_flipx_jpg from '../../../../shared/data/pdq/images/reg-test-input/dih/bridge-5-flipx.jpg?bytes'
import reg_test_input_dih_bridge_6_flipy_jpg from '../../../../shared/data/pdq/images/reg-test-input/dih/bridge-6-flipy.jpg?bytes'
import reg_test_input_dih_bridge_7_flip_plus_1_jpg from '../../../../shared/data/pdq/images/reg-test-input/dih/bridge-7-flip-plus-1.jpg?bytes'
import reg_test_input_dih_bridge_8_flip_minus_1_jpg from '../../../../shared/data/pdq/images/reg-test-input/dih/bridge-8-flip-minus-1.jpg?bytes'
import reg_test_input_labelme_subset_q0003_jpg from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q0003.jpg?bytes'
import reg_test_input_labelme_subset_q0004_jpg from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q0004.jpg?bytes'
import reg_test_input_labelme_subset_q0122_jpg from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q0122.jpg?bytes'
import reg_test_input_labelme_subset_q0291_jpg from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q0291.jpg?bytes'
import reg_test_input_labelme_subset_q0746_jpg from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q0746.jpg?bytes'
import reg_test_input_labelme_subset_q1050_jpg from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q1050.jpg?bytes'
import reg_test_input_labelme_subset_q2821_jpg from '../../../../shared/data/pdq/images/reg-test-input/labelme-subset/q2821.jpg?bytes'
import reg_test_input_pen_and_coaster_png from '../../../../shared/data/pdq/images/reg-test-input/pen-and-coaster.png?bytes'

export const REFERENCE_IMAGES: Record<string, Uint8Array> = {
  'bridge-mods/aaa-orig.jpg': bridge_mods_aaa_orig_jpg,
  'bridge-mods/blur-a-little.jpg': bridge_mods_blur_a_little_jpg,
  'bridge-mods/blur-a-lot.jpg': bridge_mods_blur_a_lot_jpg,
  'bridge-mods/high-contrast.jpg': bridge_mods_high_contrast_jpg,
  'bridge-mods/high-saturation.jpg': bridge_mods_high_saturation_jpg,
  'bridge-mods/sharpen-a-little.jpg': bridge_mods_sharpen_a_little_jpg,
  'bridge-mods/sharpen-a-lot.jpg': bridge_mods_sharpen_a_lot_jpg,
  'bridge-mods/shrink-a-little.jpg': bridge_mods_shrink_a_little_jpg,
  'bridge-mods/shrink-a-lot.jpg': bridge_mods_shrink_a_lot_jpg,
  'bridge-mods/square-128x128.jpg': bridge_mods_square_128x128_jpg,
  'bridge-mods/square-256x256.jpg': bridge_mods_square_256x256_jpg,
  'bridge-mods/square-512x512.jpg': bridge_mods_square_512x512_jpg,
  'misc-images/c.png': misc_images_c_png,
  'misc-images/modes/CMYK.jpg': misc_images_modes_CMYK_jpg,
  'misc-images/modes/L.png': misc_images_modes_L_png,
  'misc-images/modes/P.png': misc_images_modes_P_png,
  'misc-images/modes/RGBA.png': misc_images_modes_RGBA_png,
  'misc-images/small.jpg': misc_images_small_jpg,
  'misc-images/wee.jpg': misc_images_wee_jpg,
  'reg-test-input/dih/bridge-1-original.jpg': reg_test_input_dih_bridge_1_original_jpg,
  'reg-test-input/dih/bridge-2-rotate-90.jpg': reg_test_input_dih_bridge_2_rotate_90_jpg,
  'reg-test-input/dih/bridge-3-rotate-180.jpg': reg_test_input_dih_bridge_3_rotate_180_jpg,
  'reg-test-input/dih/bridge-4-rotate-270.jpg': reg_test_input_dih_bridge_4_rotate_270_jpg,
  'reg-test-input/dih/bridge-5-flipx.jpg': reg_test_input_dih_bridge_5_flipx_jpg,
  'reg-test-input/dih/bridge-6-flipy.jpg': reg_test_input_dih_bridge_6_flipy_jpg,
  'reg-test-input/dih/bridge-7-flip-plus-1.jpg': reg_test_input_dih_bridge_7_flip_plus_1_jpg,
  'reg-test-input/dih/bridge-8-flip-minus-1.jpg': reg_test_input_dih_bridge_8_flip_minus_1_jpg,
  'reg-test-input/labelme-subset/q0003.jpg': reg_test_input_labelme_subset_q0003_jpg,
  'reg-test-input/labelme-subset/q0004.jpg': reg_test_input_labelme_subset_q0004_jpg,
  'reg-test-input/labelme-subset/q0122.jpg': reg_test_input_labelme_subset_q0122_jpg,
  'reg-test-input/labelme-subset/q0291.jpg': reg_test_input_labelme_subset_q0291_jpg,
  'reg-test-input/labelme-subset/q0746.jpg': reg_test_input_labelme_subset_q0746_jpg,
  'reg-test-input/labelme-subset/q1050.jpg': reg_test_input_labelme_subset_q1050_jpg,
  'reg-test-input/labelme-subset/q2821.jpg': reg_test_input_labelme_subset_q2821_jpg,
  'reg-test-input/pen-and-coaster.png': reg_test_input_pen_and_coaster_png,
}
