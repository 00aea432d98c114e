"""The four queries of the SkillsTrainer partner contract (section "Data Fetching"), copied
verbatim: clients send exactly these, so the tests do too."""

# Fetch Course data
FETCH_COURSE_DATA = """\
    query ($courseId: bigint) {
      courses_course(where: {id: {_eq: $courseId}}) {
        id
        full_name
        description
        start_date
        end_date
        moodle_config_id
        moodle_course_url
        course_category {
          id
          name
        }
        publish
        is_moodle_course
        created_at
        updated_at
        identifier
        cost
        nsqf_level
        discount
        multilang
        image_url
        short_name
        moodle_course_id
        duration
        is_live_course
        is_subscription
        is_taxable
        course_type
      }
    }

"""

# Fetch User data
FETCH_USER_DATA = """\
    query ($userId: bigint) {
      courses_users (where: { id: { _eq: $userId } }) {
        name
        partner_id
        instructor_id
        mobile_number
        email
        activation_start_date
        activation_end_date
        active
        id
        created_at
        updated_at
        idp_user_id
        source
        gender
        date_of_birth
        social_category
        address_complete
        address_id
        facebook_user_id
        google_user_id
        idp_user_name
        is_email_verified
        is_mobile_number_verified
        enrollments {
          id
          course_id
          user_id
          enroll_status
          created_at
          updated_at
          exired_at
          order_id
          subscription_id
          partner_id
          course: course_obj_relation {
            id
            full_name
            description
            start_date
            end_date
            moodle_config_id
            moodle_course_url
            course_category {
              id
              name
            }
            publish
            is_moodle_course
            created_at
            updated_at
            identifier
            cost
            nsqf_level
            discount
            multilang
            image_url
            short_name
            moodle_course_id
            duration
            is_live_course
            is_subscription
            is_taxable
            course_type
          }
        }
        user_academic_qualifications {
          qualification_type
          institution_name
          qualification_name
          marks
          institution_address_id
          contact_person_name
          contact_person_type
          contact_person_email
          contact_person_mobile_number
          user_id
          achievement
          document_proof_id
          document_proof_url
          id
          updated_at
          created_at
          marking_type
          document_proof: user_identity_document {
            document_type
            name
            url
            user_id
            id
            created_at
            updated_at
            description
          }
          address: user_address {
            adress_type
            id
            created_at
            updated_at
            city_town
            pincode
            district
            state
            country
            location
            house_number
            country_iso_code
            user_id
          }
        }
        user_family_details {
          member_type
          occupation
          mobile_number
          email
          is_currently_working
          income_certficate_document_id
          income_certificate_url
          user_id
          id
          created_at
          updated_at
          name
          annual_income
          income_certficate {
            document_type
            name
            url
            user_id
            id
            created_at
            updated_at
            description
          }
        }
        user_languages {
          user_id
          language_id
          can_speak
          can_read
          can_write
          created_at
          updated_at
          id
          language: st_language {
            id
            name
          }
        }
        user_skills {
          user_id
          st_skill_id
          st_skill_name
          document_proof_url
          created_at
          updated_at
          id
        }
        user_work_details {
          title
          company_name
          start_date
          end_date
          place
          user_id
          created_at
          updated_at
          id
        }
      }
    }
"""

# Fetch User course progress
FETCH_USER_COURSE_PROGRESS = """\
    query getUserCourseProgress(
      $course_id: Int, $user_id: Int
    ) {
      courses_course_section(
        where: {
          course_id: {
            _eq: $course_id
          }
        }
      ) {
        id
        name
        subsections: coursesec {
          name
          id
          user_completion_status: course_complete_module_array (where: {
            user_id: { _eq: $user_id }
          }) {
            completion_status
            mapping_id
            completion_date
            user_id
          }
        }
      }
    }
"""

# Fetch course modules
FETCH_COURSE_MODULES = """\
    query getCourseModules ($course_id: Int) {
      courses_course_section (
        where: {
          course_id: { _eq: $course_id }
        }
      ) {
        id
        name
        coursesec {
          id
          name
        }
      }
    }
"""
